import CairnCore

extension Project {
    // MARK: Reading

    /// The bytes of `path` as of `ref`.
    public func readBytes(_ path: String, at ref: String = "main") async throws -> (ResolvedRef, ObjectID, [UInt8]) {
        let p = try FilePath(path)
        let (resolved, tree) = try await tree(at: ref)
        guard let blob = try await reader.lookup(root: tree, key: p.utf8) else {
            throw CairnError(.notFound, "no file '\(p)' at \(ref)", details: ["path": p.string, "ref": ref])
        }
        return (resolved, blob, try await blobBytes(blob))
    }

    func blobBytes(_ id: ObjectID) async throws -> [UInt8] {
        guard let object = try await storage.object(id, project: self.id), object.kind == .blob else {
            throw CairnError(.corrupt, "blob \(id.short) is missing from the store", details: ["object": id.hex])
        }
        // A file's bytes are checked against their id before they are served: damage on disk
        // answers `corrupt`, never altered content (one SHA-256 over a small file).
        guard object.computedID == id else {
            throw CairnError(
                .corrupt,
                "blob \(id.short) does not match its id: the store is damaged; run `cairn verify`",
                details: ["object": id.hex]
            )
        }
        return object.data
    }

    /// Lines `offset ..< offset + limit` (1-based) of `path` as of `ref`, with the total line count.
    public func read(_ path: String, at ref: String = "main", offset: Int = 1, limit: Int = 2000) async throws -> FileLines {
        guard offset >= 1 else { throw CairnError(.invalidArgument, "offset is a 1-based line number; got \(offset)") }
        guard limit >= 1 else { throw CairnError(.invalidArgument, "limit must be at least 1; got \(limit)") }
        let (resolved, blob, bytes) = try await readBytes(path, at: ref)
        let all = Self.splitLines(bytes)
        let start = min(offset - 1, all.count)
        let end = min(all.count, start + limit)
        return FileLines(
            path: try FilePath(path).string,
            commit: resolved.commit,
            blob: blob,
            startLine: offset,
            lines: all[start..<end].map { String(decoding: $0, as: UTF8.self) },
            totalLines: all.count,
            hasMore: end < all.count
        )
    }

    /// Lines split at `\n`; a final newline does not start another line.
    static func splitLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        if bytes.isEmpty { return [] }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if bytes.last == UInt8(ascii: "\n") { lines.removeLast() }
        return lines
    }

    /// Paths matching `pattern` as of `ref`, in path order, `limit` a page, after the cursor `after`.
    /// The paths matching `pattern` at `ref`, in order, `limit` at a time after `after`.
    /// `visible` (when given) hides paths: a page holds `limit` visible paths (or the rest), and
    /// `next` is the last visible one, so hidden paths neither shorten a page nor show in a cursor.
    public func glob(
        _ pattern: String,
        at ref: String = "main",
        limit: Int = 1000,
        after: String? = nil,
        visible: (@Sendable (String) -> Bool)? = nil
    ) async throws -> PathPage {
        guard limit >= 1 else { throw CairnError(.invalidArgument, "limit must be at least 1; got \(limit)") }
        let glob = try Glob(pattern)
        let (_, tree) = try await tree(at: ref)
        var paths: [String] = []
        var more = false
        let scratch = glob.makeScratch()
        let start = after.map { Array($0.utf8) + [0] }
        try await reader.scan(root: tree, prefix: glob.literalPrefix, from: start) { entry in
            let path = String(decoding: entry.key, as: UTF8.self)
            guard try glob.matches(path, scratch: scratch) else { return true }
            if let visible, !visible(path) { return !Task.isCancelled }
            if paths.count == limit {
                more = true
                return false
            }
            paths.append(path)
            return true
        }
        return PathPage(paths: paths, next: more ? paths.last : nil)
    }

    // MARK: Writing

    /// Writes a whole file as one commit.
    @discardableResult
    @_spi(StoreWrites) public func write(
        _ path: String,
        _ content: [UInt8],
        branch: String = "main",
        metadata: CommitMetadata
    ) async throws -> CommitOutcome {
        try await commit([.write(path: path, content: content)], branch: branch, metadata: metadata)
    }

    /// Replaces exact text in a file as one commit.
    @discardableResult
    @_spi(StoreWrites) public func edit(
        _ path: String,
        old: String,
        new: String,
        replaceAll: Bool = false,
        branch: String = "main",
        metadata: CommitMetadata
    ) async throws -> CommitOutcome {
        try await commit([.edit(path: path, old: old, new: new, replaceAll: replaceAll)], branch: branch, metadata: metadata)
    }

    /// Deletes a file or a glob of files as one commit.
    @discardableResult
    @_spi(StoreWrites) public func delete(
        _ pathOrGlob: String,
        branch: String = "main",
        metadata: CommitMetadata
    ) async throws -> CommitOutcome {
        try await commit([.delete(pathOrGlob)], branch: branch, metadata: metadata)
    }

    /// Applies `changes` in order as one commit: all of them, or (on any error) none.
    ///
    /// Changes are computed against `basedOn` (the commit the caller last read; default: the
    /// branch head now). If the branch has moved past it, the commit is rebased onto the new head
    /// when none of its paths changed in between, and fails with `conflict` otherwise: an
    /// overlapping change is never a lost update.
    @discardableResult
    ///
    /// `check` sees the change over the branch's current world before anything is written (see
    /// `CommitCheck`); `companion` is committed with it in one transaction, or neither is.
    @_spi(StoreWrites) public func commit(
        _ changes: [FileChange],
        branch: String = "main",
        basedOn: ObjectID? = nil,
        metadata: CommitMetadata,
        audit: AuditHook? = nil,
        check: CommitCheck? = nil,
        companion: Companion? = nil
    ) async throws -> CommitOutcome {
        guard !changes.isEmpty else { throw CairnError(.invalidArgument, "a commit needs at least one change") }
        let head = try await headOf(branch: branch)
        let base = basedOn ?? head
        let tree = try await commit(base).tree
        var working: [String: [UInt8]?] = [:]
        func current(_ p: FilePath) async throws -> [UInt8]? {
            if let staged = working[p.string] { return staged }
            guard let blob = try await reader.lookup(root: tree, key: p.utf8) else { return nil }
            return try await blobBytes(blob)
        }
        for change in changes {
            switch change {
            case .write(let path, let content):
                working[try FilePath(path).string] = .some(content)
            case .edit(let path, let old, let new, let replaceAll):
                let p = try FilePath(path)
                guard let bytes = try await current(p) else {
                    throw CairnError(.notFound, "no file '\(p)' on '\(branch)' to edit", details: ["path": p.string])
                }
                working[p.string] = .some(try Self.replace(in: bytes, old: old, new: new, replaceAll: replaceAll, path: p.string))
            case .delete(let target):
                var removed = 0
                if Glob.hasWildcards(target) {
                    let glob = try Glob(target)
                    let scratch = glob.makeScratch()
                    var matched: [String] = []
                    try await reader.scan(root: tree, prefix: glob.literalPrefix) { entry in
                        let path = String(decoding: entry.key, as: UTF8.self)
                        if try glob.matches(path, scratch: scratch) { matched.append(path) }
                        return true
                    }
                    for (path, staged) in working where staged != nil && !matched.contains(path) {
                        if try glob.matches(path, scratch: scratch) { matched.append(path) }
                    }
                    for path in matched where (working[path] ?? .some([])) != nil {
                        working[path] = .some(nil)
                        removed += 1
                    }
                } else {
                    let p = try FilePath(target)
                    var exists = false
                    if let staged = working[p.string] {
                        exists = staged != nil
                    } else {
                        exists = try await reader.lookup(root: tree, key: p.utf8) != nil
                    }
                    if exists {
                        working[p.string] = .some(nil)
                        removed = 1
                    }
                }
                if removed == 0 {
                    throw CairnError(.notFound, "nothing matches '\(target)' on '\(branch)' to delete", details: ["path": target])
                }
            }
        }
        var blobs: [ObjectID: [UInt8]] = [:]
        var edits: [TreeEdit] = []
        edits.reserveCapacity(working.count)
        for (path, content) in working {
            if let content {
                let id = ObjectID.hash(kind: ObjectKind.blob.rawValue, payload: content)
                blobs[id] = content
                edits.append(TreeEdit(key: Array(path.utf8), value: id))
            } else {
                edits.append(TreeEdit(key: Array(path.utf8), value: nil))
            }
        }
        edits.sort { $0.key.lexicographicallyPrecedes($1.key) }
        return try await submit(
            branch: branch,
            base: base,
            edits: edits,
            blobs: blobs,
            metadata: metadata,
            reason: "commit: \(metadata.message)",
            audit: audit,
            check: check,
            companion: companion
        )
    }

    /// Byte-exact replacement: predictable for any text, whatever its normalization.
    static func replace(in bytes: [UInt8], old: String, new: String, replaceAll: Bool, path: String) throws(CairnError) -> [UInt8] {
        let needle = Array(old.utf8)
        guard !needle.isEmpty else { throw CairnError(.invalidArgument, "the text to replace cannot be empty") }
        var hits: [Int] = []
        var i = 0
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0] && bytes[i..<i + needle.count].elementsEqual(needle) {
                hits.append(i)
                i += needle.count
            } else {
                i += 1
            }
        }
        if hits.isEmpty {
            throw CairnError(.editNoMatch, "the text to replace does not occur in '\(path)'; read the file again", details: ["path": path])
        }
        if hits.count > 1 && !replaceAll {
            throw CairnError(
                .ambiguousEdit,
                "the text to replace occurs \(hits.count) times in '\(path)'; give more context to make it unique, or replace all",
                details: ["path": path, "occurrences": String(hits.count)]
            )
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + hits.count * max(0, new.utf8.count - needle.count))
        var last = 0
        for h in hits {
            out.append(contentsOf: bytes[last..<h])
            out.append(contentsOf: new.utf8)
            last = h + needle.count
        }
        out.append(contentsOf: bytes[last...])
        return out
    }
}
