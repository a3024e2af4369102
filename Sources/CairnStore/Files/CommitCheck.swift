import CairnCore

/// A change about to be committed, as a check sees it: the branch's world at `head` with the
/// change laid over it. The commit lands on that head (or on a later one where nothing the
/// check read has changed), so what the check sees is what the commit makes.
public struct StagedCommit: Sendable {
    public let project: Project
    public let branch: String
    public let head: ObjectID
    let headTree: ObjectID
    /// Path → new content (nil: deleted), for every path the change touches.
    public let changes: [String: [UInt8]?]

    /// A file after the change.
    public func read(_ path: String) async throws -> [UInt8]? {
        if let staged = changes[path] { return staged }
        return try await before(path)
    }

    /// Several files after the change, their contents fetched from the store in one batch.
    public func read(_ paths: [String]) async throws -> [String: [UInt8]?] {
        var out: [String: [UInt8]?] = [:]
        var wanted: [String: ObjectID] = [:]
        for path in paths where out[path] == nil {
            if let staged = changes[path] {
                out[path] = .some(staged)
            } else if let blob = try await project.reader.lookup(root: headTree, key: Array(path.utf8)) {
                wanted[path] = blob
            } else {
                out[path] = .some(nil)
            }
        }
        if wanted.count <= 32 {
            // Point reads run on the calling thread in microseconds; a batch pays a thread hop.
            for (path, id) in wanted { out[path] = .some(try await project.blobBytes(id)) }
        } else {
            let objects = try await project.storage.objects(Array(Set(wanted.values)), project: project.id)
            for (path, id) in wanted {
                guard let object = objects[id], object.kind == .blob else {
                    throw CairnError(.corrupt, "blob \(id.short) is missing from the store", details: ["object": id.hex])
                }
                out[path] = .some(object.data)
            }
        }
        return out
    }

    /// The content id of a file after the change (nil: absent): a cache key that needs no read.
    public func blob(_ path: String) async throws -> ObjectID? {
        if let staged = changes[path] { return staged.map { ObjectID.hash(kind: ObjectKind.blob.rawValue, payload: $0) } }
        return try await project.reader.lookup(root: headTree, key: Array(path.utf8))
    }

    /// A file before the change (at `head`).
    public func before(_ path: String) async throws -> [UInt8]? {
        guard let blob = try await project.reader.lookup(root: headTree, key: Array(path.utf8)) else { return nil }
        return try await project.blobBytes(blob)
    }

    /// Every path under `prefix` after the change, in order.
    public func paths(prefix: String) async throws -> [String] {
        var out: [String] = []
        try await project.reader.scan(root: headTree, prefix: Array(prefix.utf8)) { entry in
            out.append(String(decoding: entry.key, as: UTF8.self))
            return true
        }
        var set = Set(out)
        for (path, content) in changes where path.hasPrefix(prefix) {
            if content == nil { set.remove(path) } else { set.insert(path) }
        }
        return set.sorted()
    }
}

/// What a check adds to a commit: the paths its verdict relied on (guarded against concurrent
/// change), and files it derives from the change (indexes, filled-in defaults), written in the
/// same commit.
public struct CheckResult: Sendable {
    public var reads: Set<String>
    public var writes: [String: [UInt8]?]

    public init(reads: Set<String> = [], writes: [String: [UInt8]?] = [:]) {
        self.reads = reads
        self.writes = writes
    }
}

/// Runs before a change is submitted: throws to refuse it (nothing is written), or returns what
/// it relied on and derived. The store knows nothing of what is checked; the governance layer
/// passes its ontology validation here.
public typealias CommitCheck = @Sendable (StagedCommit) async throws -> CheckResult

extension Project {
    /// Submits edits, first passing them through `check` against the branch's current world.
    func submit(
        branch: String,
        base: ObjectID,
        edits: [TreeEdit],
        blobs: [ObjectID: [UInt8]],
        metadata: CommitMetadata,
        extraParents: [ObjectID] = [],
        reason: String,
        audit: AuditHook?,
        check: CommitCheck?,
        companion: Companion? = nil
    ) async throws -> CommitOutcome {
        var request = CommitRequest(
            project: id,
            branch: branch,
            base: base,
            edits: edits,
            blobs: blobs,
            metadata: metadata,
            extraParents: extraParents,
            reason: reason,
            audit: audit
        )
        request.companion = companion
        guard let check else { return try await repository.queue.submit(request) }
        let head = try await headOf(branch: branch)
        var changes: [String: [UInt8]?] = [:]
        for edit in edits {
            let path = String(decoding: edit.key, as: UTF8.self)
            if let id = edit.value {
                if let bytes = blobs[id] { changes[path] = .some(bytes) } else { changes[path] = .some(try await blobBytes(id)) }
            } else {
                changes[path] = .some(nil)
            }
        }
        let staged = StagedCommit(project: self, branch: branch, head: head, headTree: try await commit(head).tree, changes: changes)
        let result = try await check(staged)
        var byKey: [[UInt8]: TreeEdit] = Dictionary(uniqueKeysWithValues: edits.map { ($0.key, $0) })
        var allBlobs = blobs
        var derived: Set<[UInt8]> = []
        for (path, content) in result.writes {
            let key = Array(path.utf8)
            if let content {
                let id = ObjectID.hash(kind: ObjectKind.blob.rawValue, payload: content)
                allBlobs[id] = content
                byKey[key] = TreeEdit(key: key, value: id)
            } else {
                byKey[key] = TreeEdit(key: key, value: nil)
            }
            if changes[path] == nil { derived.insert(key) }
        }
        request = CommitRequest(
            project: id,
            branch: branch,
            base: base,
            edits: byKey.values.sorted { $0.key.lexicographicallyPrecedes($1.key) },
            blobs: allBlobs,
            metadata: metadata,
            extraParents: extraParents,
            reason: reason,
            audit: audit,
            checkedAt: head,
            checkedKeys: result.reads.map { Array($0.utf8) } + derived.sorted { $0.lexicographicallyPrecedes($1) },
            derivedKeys: derived,
            companion: companion
        )
        return try await repository.queue.submit(request)
    }
}

extension Project {
    /// The world at `ref` with `changes` laid over it, for a check run without committing
    /// (a dry run of an ontology change, the violations query).
    public func stage(at ref: String, changes: [String: [UInt8]?] = [:]) async throws -> StagedCommit {
        let resolved = try await resolve(ref)
        return StagedCommit(
            project: self,
            branch: resolved.branch ?? ref,
            head: resolved.commit,
            headTree: try await commit(resolved.commit).tree,
            changes: changes
        )
    }
}
