import CairnCore

/// Loads tree nodes of one project, through the shared cache and any nodes made but not yet stored.
struct TreeReader: Sendable {
    let storage: any Storage
    let project: Int64
    let cache: NodeCache
    var overlay: ObjectOverlay? = nil

    func node(_ id: ObjectID) async throws -> TreeNode {
        if let n = cache.get(project: project, id: id) { return n }
        if let n = overlay?.node(id) { return n }
        guard let object = try await storage.object(id, project: project) else {
            throw CairnError(.corrupt, "tree node \(id.short) is missing from the store", details: ["object": id.hex])
        }
        guard object.kind == .tree else {
            throw CairnError(.corrupt, "object \(id.short) should be a tree node but is a \(object.kind.name)", details: ["object": id.hex])
        }
        let node = try TreeNode(decoding: object.data)
        cache.put(project: project, id: id, node: node)
        return node
    }

    /// The value stored at `key`, or nil.
    func lookup(root: ObjectID, key: [UInt8]) async throws -> ObjectID? {
        var node = try await self.node(root)
        while true {
            let i = lowerBound(node.entries, key)
            if node.level == 0 {
                return i < node.entries.count && node.entries[i].key == key ? node.entries[i].value : nil
            }
            guard i < node.entries.count else { return nil }
            node = try await self.node(node.entries[i].value)
        }
    }

    /// Every leaf entry whose key starts with `prefix`, in order, until `body` returns false.
    func scan(root: ObjectID, prefix: [UInt8], from start: [UInt8]? = nil, _ body: (TreeEntry) throws -> Bool) async throws {
        let seekKey = start.map { $0.lexicographicallyPrecedes(prefix) ? prefix : $0 } ?? prefix
        var cursor = try await TreeCursor(reader: self, root: root, seek: seekKey)
        while let entry = cursor.entry {
            guard entry.key.starts(with: prefix) else { return }
            guard try body(entry) else { return }
            try await cursor.advance()
        }
    }
}
