import CairnCore

extension Project {
    /// One commit and the files it changed, with JSON-level changes.
    public func show(_ ref: String) async throws -> CommitDetail {
        let resolved = try await resolve(ref)
        let c = try await commit(resolved.commit)
        var parentTree = TreeNode.empty.id
        if let parent = c.parents.first { parentTree = try await commit(parent).tree }
        let files = try await diffTrees(parentTree, c.tree, json: true, after: nil, limit: .max).files
        return CommitDetail(commit: CommitInfo(id: resolved.commit, c), files: files)
    }

    /// A commit's first parent (nil for a root commit).
    public func firstParent(_ id: ObjectID) async throws -> ObjectID? { try await commit(id).parents.first }

    /// One commit's metadata (author, message, the run and call that made it), without its diff.
    public func commitInfo(_ id: ObjectID) async throws -> CommitInfo { CommitInfo(id: id, try await commit(id)) }

    /// The paths a commit changed against its first parent (all of its files for a root commit).
    public func changedPaths(_ id: ObjectID) async throws -> [String] {
        let c = try await commit(id)
        var parentTree = TreeNode.empty.id
        if let parent = c.parents.first { parentTree = try await commit(parent).tree }
        var paths: [String] = []
        try await reader.diff(parentTree, c.tree) { paths.append($0.path) }
        return paths
    }

    /// The first-parent history of `ref`, newest first; with `path`, only the commits that
    /// changed it (from the path-history index, never a walk of the whole history).
    public func log(at ref: String = "main", path: String? = nil, limit: Int = 50, cursor: String? = nil) async throws -> LogPage {
        guard limit >= 1 else { throw CairnError(.invalidArgument, "limit must be at least 1; got \(limit)") }
        let resolved = try await resolve(ref)
        if let path { return try await pathLog(FilePath(path), head: resolved.commit, limit: limit, cursor: cursor) }
        var next: ObjectID? = resolved.commit
        if let cursor {
            guard let id = ObjectID(hex: cursor) else { throw CairnError(.invalidArgument, "'\(cursor)' is not a log cursor") }
            next = id
        }
        var entries: [LogEntry] = []
        while let id = next, entries.count < limit {
            let c = try await commit(id)
            entries.append(LogEntry(commit: CommitInfo(id: id, c), change: nil))
            next = c.parents.first
        }
        return LogPage(commits: entries, next: next?.hex)
    }

    private func pathLog(_ path: FilePath, head: ObjectID, limit: Int, cursor: String?) async throws -> LogPage {
        var below: Int? = nil
        if let cursor {
            guard let g = Int(cursor), g >= 0 else { throw CairnError(.invalidArgument, "'\(cursor)' is not a path-log cursor") }
            below = g
        }
        var entries: [LogEntry] = []
        var last: Int? = nil
        for try await row in pathChanges(path, head: head, below: below) {
            if entries.count == limit {
                return LogPage(commits: entries, next: last.map(String.init))
            }
            entries.append(LogEntry(commit: CommitInfo(id: row.commit, try await commit(row.commit)), change: row.change))
            last = row.generation
        }
        return LogPage(commits: entries, next: nil)
    }

    /// Path-history rows of `path` on the first-parent line of `head`, newest first.
    func pathChanges(_ path: FilePath, head: ObjectID, below: Int? = nil) -> AsyncThrowingStream<PathHistoryEntry, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let headEntry = try await indexEntry(head)
                    let zero = ObjectID(w0: 0, w1: 0, w2: 0, w3: 0)
                    var cursor: (generation: Int, commit: ObjectID)? = (min(below ?? .max, headEntry.generation + 1), zero)
                    let cache = IndexMemo(project: self)
                    while true {
                        let rows = try await storage.pathHistory(project: id, path: path.string, before: cursor, limit: 64)
                        for row in rows where row.generation <= headEntry.generation {
                            let ancestor = try await Ancestry.ancestor(of: headEntry, atGeneration: row.generation, index: cache.entry)
                            if ancestor?.id == row.commit { continuation.yield(row) }
                        }
                        guard rows.count == 64, let last = rows.last else { break }
                        cursor = (last.generation, last.commit)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Changes from `from` to `to`, in path order; a page of `limit` files after the path `after`.
    public func diff(from: String, to: String, json: Bool = true, limit: Int = 10_000, after: String? = nil) async throws -> DiffResult {
        guard limit >= 1 else { throw CairnError(.invalidArgument, "limit must be at least 1; got \(limit)") }
        let (a, treeA) = try await tree(at: from)
        let (b, treeB) = try await tree(at: to)
        let r = try await diffTrees(treeA, treeB, json: json, after: after, limit: limit)
        return DiffResult(from: a.commit, to: b.commit, files: r.files, next: r.next)
    }

    func diffTrees(_ a: ObjectID, _ b: ObjectID, json: Bool, after: String?, limit: Int) async throws -> (files: [FileDiff], next: String?)
    {
        var changes: [TreeChange] = []
        let afterKey = after.map { Array($0.utf8) }
        var more = false
        try await reader.diff(a, b) { change in
            if let afterKey, !afterKey.lexicographicallyPrecedes(change.key) { return }
            if changes.count == limit {
                more = true
                return
            }
            changes.append(change)
        }
        var files: [FileDiff] = []
        for change in changes {
            var pointers: [JSONChange]? = nil
            if json, let before = change.before, let after = change.after,
                let x = JSONValue.parse(try await blobBytes(before)), let y = JSONValue.parse(try await blobBytes(after))
            {
                pointers = JSONValue.diff(x, y)
            }
            files.append(FileDiff(path: change.path, change: change.kind, before: change.before, after: change.after, json: pointers))
        }
        return (files, more ? changes.last?.path : nil)
    }

    /// For each value of the JSON file `path` as of `ref`, the commit that last set it.
    public func blame(_ path: String, at ref: String = "main") async throws -> [BlameEntry] {
        let p = try FilePath(path)
        let (resolved, _, bytes) = try await readBytes(p.string, at: ref)
        guard let doc = JSONValue.parse(bytes) else {
            throw CairnError(.notJSON, "'\(p)' is not a JSON file; blame works per JSON pointer", details: ["path": p.string])
        }
        var unresolved = doc.leaves()
        var result: [String: (JSONValue, ObjectID)] = [:]
        var newer: ObjectID? = nil
        for try await row in pathChanges(p, head: resolved.commit) {
            // `row.commit` made the version `row.blob`; values that differ in it from the newer
            // version were set by the newer commit.
            var older: [String: JSONValue] = [:]
            if let blob = row.blob, let parsed = JSONValue.parse(try await blobBytes(blob)) { older = parsed.leaves() }
            if let newer {
                for (pointer, value) in unresolved where older[pointer] != value {
                    result[pointer] = (value, newer)
                    unresolved[pointer] = nil
                }
            }
            if unresolved.isEmpty { break }
            newer = row.commit
        }
        if let newer { for (pointer, value) in unresolved { result[pointer] = (value, newer) } }
        // The path history follows first parents, so a value a merge brought in is first
        // attributed to the merge commit. When the merged side (second parent) already held the
        // same value, its own history says who set it: the original author survives the merge.
        var throughMerge: [ObjectID: [String: (JSONValue, ObjectID)]] = [:]
        for (pointer, (value, id)) in result {
            let c = try await commit(id)
            guard c.parents.count > 1 else { continue }
            let side = c.parents[1]
            if throughMerge[id] == nil {
                var found: [String: (JSONValue, ObjectID)] = [:]
                if (try? await readBytes(p.string, at: side.hex)) != nil {
                    for entry in try await blame(p.string, at: side.hex) { found[entry.pointer] = (entry.value, entry.commit) }
                }
                throughMerge[id] = found
            }
            if let (sideValue, origin) = throughMerge[id]?[pointer], sideValue == value { result[pointer] = (value, origin) }
        }
        var entries: [BlameEntry] = []
        for (pointer, (value, id)) in result.sorted(by: { $0.key < $1.key }) {
            let c = try await commit(id)
            entries.append(
                BlameEntry(
                    pointer: pointer,
                    value: value,
                    commit: id,
                    author: c.author,
                    time: Clock.rfc3339(c.timeMillis),
                    message: c.message
                )
            )
        }
        return entries
    }

    /// Undoes `ref`'s changes (against its first parent) with a new commit on `branch`.
    /// A path changed again since is a conflict, never silently overwritten.
    @discardableResult
    public func revert(
        _ ref: String,
        branch: String = "main",
        metadata: CommitMetadata,
        audit: AuditHook? = nil,
        check: CommitCheck? = nil
    ) async throws -> CommitOutcome {
        let target = try await resolve(ref)
        let c = try await commit(target.commit)
        guard let parent = c.parents.first else {
            throw CairnError(.invalidArgument, "commit \(target.commit.short) is the project's first commit; there is nothing to revert to")
        }
        _ = try await headOf(branch: branch)
        let parentTree = try await commit(parent).tree
        var edits: [TreeEdit] = []
        try await reader.diff(c.tree, parentTree) { change in edits.append(TreeEdit(key: change.key, value: change.after)) }
        var blobs: [ObjectID: [UInt8]] = [:]
        for edit in edits { if let b = edit.value { blobs[b] = try await blobBytes(b) } }
        return try await submit(
            branch: branch,
            base: target.commit,
            edits: edits,
            blobs: blobs,
            metadata: metadata,
            reason: "revert \(target.commit.hex)",
            audit: audit,
            check: check
        )
    }
}

/// Memoizes commit-index reads during one history query.
final class IndexMemo: @unchecked Sendable {
    // @unchecked: used from one task at a time (a single history query).
    private var memo: [ObjectID: CommitIndexEntry] = [:]
    private let project: Project

    init(project: Project) { self.project = project }

    func entry(_ id: ObjectID) async throws -> CommitIndexEntry {
        if let e = memo[id] { return e }
        let e = try await project.indexEntry(id)
        memo[id] = e
        return e
    }
}
