import CairnCore

/// The conflicts of one file in a merge attempt.
public struct FileConflict: Sendable, Codable, Equatable {
    public let path: String
    /// `json` when the file merged member by member; `whole` when it is not JSON (or not JSON on
    /// every side) and one hunk at pointer `""` holds the three texts as strings.
    public let kind: String
    public let hunks: [MergeConflict]
}

/// A merge worked out but not yet written: what would change on the target, or the conflicts.
public struct MergePlan: Sendable {
    public let source: String
    public let target: String
    public let base: ObjectID
    public let ours: ObjectID
    public let theirs: ObjectID
    /// The paths the merge commit would change on the target (sorted), with their new blob (nil: deleted).
    public let edits: [TreeEdit]
    let blobs: [ObjectID: [UInt8]]
    public let conflicts: [FileConflict]

    public var changedPaths: [String] { edits.map { String(decoding: $0.key, as: UTF8.self) } }
}

/// What a merge did, or why it could not yet.
public enum MergeOutcome: Sendable {
    /// The merge commit (two parents: the target's head, then the source's), or no commit when
    /// the source had nothing the target lacked.
    case merged(CommitOutcome, base: ObjectID)
    /// Unresolved hunks; nothing was written.
    case conflicts([FileConflict], base: ObjectID, ours: ObjectID, theirs: ObjectID)
}

extension Project {
    /// Merges branch `source` into branch `target` at their three-way merge base. Files changed
    /// on one side only take that side; files changed on both merge by JSON member (see
    /// `JSONMerge`), other files as a whole. `resolutions[path][pointer]` settles hunks.
    /// Only the changed paths of each side are read, so the cost follows the changes.
    @_spi(StoreWrites) public func merge(
        source: String,
        into target: String,
        resolutions: [String: [String: MergeResolution]] = [:],
        metadata: CommitMetadata,
        audit: AuditHook? = nil
    ) async throws -> MergeOutcome {
        try await commitMerge(try await planMerge(source: source, into: target, resolutions: resolutions), metadata: metadata, audit: audit)
    }

    /// Writes a planned merge: a commit with two parents, or nothing when there are conflicts or
    /// nothing to merge. If the target moved since the plan and touched the same paths, the
    /// commit fails with `conflict` (plan again).
    @_spi(StoreWrites) public func commitMerge(
        _ plan: MergePlan,
        metadata: CommitMetadata,
        audit: AuditHook? = nil,
        check: CommitCheck? = nil
    ) async throws -> MergeOutcome {
        if !plan.conflicts.isEmpty { return .conflicts(plan.conflicts, base: plan.base, ours: plan.ours, theirs: plan.theirs) }
        if plan.base == plan.theirs {
            return .merged(CommitOutcome(commit: nil, head: plan.ours, branch: plan.target, changed: []), base: plan.base)
        }
        let outcome = try await submit(
            branch: plan.target,
            base: plan.ours,
            edits: plan.edits,
            blobs: plan.blobs,
            metadata: metadata,
            extraParents: [plan.theirs],
            reason: "merge \(plan.source) into \(plan.target)",
            audit: audit,
            check: check
        )
        return .merged(outcome, base: plan.base)
    }

    /// Works out a merge of `source` into `target` without writing anything.
    /// With `sourceHead`, the source as of that commit (what a review approved), not its head now.
    public func planMerge(
        source: String,
        into target: String,
        sourceHead: ObjectID? = nil,
        resolutions: [String: [String: MergeResolution]] = [:]
    ) async throws -> MergePlan {
        let ours = try await headOf(branch: target)
        let theirs: ObjectID
        if let sourceHead { theirs = sourceHead } else { theirs = try await headOf(branch: source) }
        guard let base = try await mergeBase(ours, theirs) else {
            throw CairnError(
                .invalidArgument,
                "'\(source)' and '\(target)' share no history",
                details: ["source": source, "target": target]
            )
        }
        if base == theirs {
            return MergePlan(source: source, target: target, base: base, ours: ours, theirs: theirs, edits: [], blobs: [:], conflicts: [])
        }
        let baseTree = try await commit(base).tree
        let oursTree = try await commit(ours).tree
        let theirsTree = try await commit(theirs).tree
        var oursChanges: [String: TreeChange] = [:]
        try await reader.diff(baseTree, oursTree) { oursChanges[$0.path] = $0 }
        var theirsChanges: [TreeChange] = []
        try await reader.diff(baseTree, theirsTree) { theirsChanges.append($0) }

        var edits: [TreeEdit] = []
        var blobs: [ObjectID: [UInt8]] = [:]
        var conflicts: [FileConflict] = []
        for change in theirsChanges {
            let path = change.path
            guard let mine = oursChanges[path] else {
                edits.append(TreeEdit(key: change.key, value: change.after))  // theirs only
                continue
            }
            if mine.after == change.after { continue }  // the same change on both sides
            let b = try await change.before.asyncMap { try await blobBytes($0) }
            let o = try await mine.after.asyncMap { try await blobBytes($0) }
            let t = try await change.after.asyncMap { try await blobBytes($0) }
            let wanted = resolutions[path] ?? [:]
            let bj = b.map(JSONValue.parse)
            let oj = o.map(JSONValue.parse)
            let tj = t.map(JSONValue.parse)
            let allJSON = [bj, oj, tj].allSatisfy { $0 == nil || $0! != nil }
            var merged: [UInt8]??
            if allJSON {
                let r = JSONMerge.merge(base: bj ?? nil, ours: oj ?? nil, theirs: tj ?? nil, resolutions: wanted)
                if r.conflicts.isEmpty {
                    merged = .some(r.merged.map { Array($0.text.utf8) })
                } else {
                    conflicts.append(FileConflict(path: path, kind: "json", hunks: r.conflicts))
                }
            } else {
                func text(_ bytes: [UInt8]?) -> JSONValue? { bytes.map { .string(String(decoding: $0, as: UTF8.self)) } }
                switch wanted[""] {
                case .ours?: merged = .some(o)
                case .theirs?: merged = .some(t)
                case .value(nil)?: merged = .some(nil)
                case .value(.string(let s)?)?: merged = .some(Array(s.utf8))
                case .value?: throw CairnError(.invalidArgument, "'\(path)' is not JSON: rewrite it with a string", details: ["path": path])
                case nil:
                    conflicts.append(
                        FileConflict(
                            path: path,
                            kind: "whole",
                            hunks: [MergeConflict(pointer: "", base: text(b), ours: text(o), theirs: text(t))]
                        )
                    )
                }
            }
            if case .some(let bytes) = merged {
                if let bytes {
                    let id = ObjectID.hash(kind: ObjectKind.blob.rawValue, payload: bytes)
                    blobs[id] = bytes
                    edits.append(TreeEdit(key: change.key, value: id))
                } else {
                    edits.append(TreeEdit(key: change.key, value: nil))
                }
            }
        }
        edits.sort { $0.key.lexicographicallyPrecedes($1.key) }
        return MergePlan(
            source: source,
            target: target,
            base: base,
            ours: ours,
            theirs: theirs,
            edits: edits,
            blobs: blobs,
            conflicts: conflicts
        )
    }

    /// The best common ancestor of two commits over all parents.
    public func mergeBase(_ a: ObjectID, _ b: ObjectID) async throws -> ObjectID? {
        try await divergence(a, from: b).base
    }

    /// How `a` and `b` have diverged: git's "paint down to common" walk, newest first, stopping
    /// when only commits reachable from both remain. Commits painted by one side only are that
    /// side's own (`git rev-list --left-right --count a...b`, all parents followed), so the cost
    /// follows the divergence, not the length of the history.
    public func divergence(_ a: ObjectID, from b: ObjectID) async throws -> Divergence {
        if a == b { return Divergence(base: a, ahead: 0, behind: 0, aheadAuthors: []) }
        struct Item {
            let id: ObjectID
            let time: Millis
        }
        var flags: [ObjectID: UInt8] = [a: 1, b: 2]
        var queue: [Item] = [Item(id: a, time: try await indexEntry(a).timeMillis), Item(id: b, time: try await indexEntry(b).timeMillis)]
        var found: [ObjectID] = []
        var authors: [ObjectID: String] = [:]
        let stale: UInt8 = 4
        while queue.contains(where: { (flags[$0.id] ?? 0) & stale == 0 }) {
            // Newest first; the queue stays small (the frontier), so a linear pick is enough.
            let i = queue.indices.max { (queue[$0].time, queue[$0].id.hex) < (queue[$1].time, queue[$1].id.hex) }!
            let item = queue.remove(at: i)
            var f = flags[item.id] ?? 0
            if f & 3 == 3 && f & stale == 0 {
                found.append(item.id)
                f |= stale
                flags[item.id] = f
            }
            let commit = try await commit(item.id)
            if f & 3 == 1 { authors[item.id] = commit.author }
            for parent in commit.parents {
                let old = flags[parent] ?? 0
                let new = old | f
                if new != old {
                    flags[parent] = new
                    queue.append(Item(id: parent, time: try await indexEntry(parent).timeMillis))
                }
            }
        }
        var ahead = 0
        var behind = 0
        var aheadAuthors: Set<String> = []
        for (id, f) in flags where f & 3 != 3 {
            if f & 3 == 1 {
                ahead += 1
                if let who = authors[id] { aheadAuthors.insert(who) }
            } else {
                behind += 1
            }
        }
        // Of several candidates, the first found (newest) is the one no other descends from.
        return Divergence(base: found.first, ahead: ahead, behind: behind, aheadAuthors: aheadAuthors)
    }
}

/// How two commits' histories differ.
public struct Divergence: Sendable, Equatable {
    /// Their best common ancestor (nil: no shared history).
    public let base: ObjectID?
    /// Commits reachable from the first and not the second, and the reverse.
    public let ahead: Int
    public let behind: Int
    /// The authors of the first side's own commits: who a review of it must not be by.
    public let aheadAuthors: Set<String>
}

extension Optional {
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        switch self {
        case .some(let v): try await transform(v)
        case .none: nil
        }
    }
}
