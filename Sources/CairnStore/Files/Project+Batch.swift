import CairnCore

/// A page of files with their bytes, in path order.
public struct FilePage: Sendable {
    public let files: [(path: String, bytes: [UInt8])]
    /// Each file's blob id, in the same order: what a reader that keeps an index of the files
    /// (the features area's spatial index) fetches them by later, without the tree.
    public let blobs: [ObjectID]
    /// The last path of the page when more follow (the `after` of the next page), nil at the end.
    public let next: String?
}

extension Project {
    /// The files matching `pattern` at `ref` with their bytes, `limit` a page after the path
    /// `after`: one range scan of the tree and one batched fetch of the blobs, where reading each
    /// path alone would look the tree up and fetch once per file. Readers that want whole
    /// collections of files (feature pages, a collection's summary) page with it.
    public func files(
        matching pattern: String,
        at ref: String,
        limit: Int = 500,
        after: String? = nil,
        visible: (@Sendable (String) -> Bool)? = nil
    ) async throws -> FilePage {
        guard limit >= 1 else { throw CairnError(.invalidArgument, "limit must be at least 1; got \(limit)") }
        let glob = try Glob(pattern)
        let (_, tree) = try await tree(at: ref)
        var entries: [(path: String, blob: ObjectID)] = []
        var more = false
        let scratch = glob.makeScratch()
        let start = after.map { Array($0.utf8) + [0] }
        try await reader.scan(root: tree, prefix: glob.literalPrefix, from: start) { entry in
            let path = String(decoding: entry.key, as: UTF8.self)
            guard try glob.matches(path, scratch: scratch) else { return true }
            if let visible, !visible(path) { return !Task.isCancelled }
            if entries.count == limit {
                more = true
                return false
            }
            entries.append((path, entry.value))
            return true
        }
        let bytes = try await blobs(entries.map(\.blob))
        return FilePage(
            files: entries.map { ($0.path, bytes[$0.blob] ?? []) },
            blobs: entries.map(\.blob),
            next: more ? entries.last?.path : nil
        )
    }

    /// The bytes of several blobs in one fetch, each checked against its id (as `readBytes` does).
    public func blobs(_ ids: [ObjectID]) async throws -> [ObjectID: [UInt8]] {
        guard !ids.isEmpty else { return [:] }
        let objects = try await storage.objects(Array(Set(ids)), project: id)
        var out: [ObjectID: [UInt8]] = [:]
        out.reserveCapacity(objects.count)
        for id in ids where out[id] == nil {
            guard let object = objects[id], object.kind == .blob, object.computedID == id else {
                throw CairnError(
                    .corrupt,
                    "blob \(id.short) is missing or does not match its id: the store is damaged; run `cairn verify`",
                    details: ["object": id.hex]
                )
            }
            out[id] = object.data
        }
        return out
    }
}
