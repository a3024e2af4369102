import CairnCore

/// Applies a sorted batch of edits to a prolly tree, rewriting only the nodes the edits reach.
///
/// Level by level: each node an edit falls in is merged with its edits and re-cut; cutting
/// goes on into following nodes only until a new boundary falls where an old one was (after a
/// boundary the cutter's state is fresh, so everything after is unchanged). The replaced and
/// new nodes become the edits of the level above. Cost: O(edits × node size × height).
struct TreeEditor {
    let reader: TreeReader
    /// Nodes made by this editor, with their canonical bytes, to be stored with the commit.
    private(set) var created: [ObjectID: (node: TreeNode, bytes: [UInt8])] = [:]

    init(reader: TreeReader) { self.reader = reader }

    /// Returns the root of the tree with the edits applied. `edits` must be sorted by key with no duplicates.
    mutating func apply(root: ObjectID, edits: [TreeEdit]) async throws -> ObjectID {
        guard !edits.isEmpty else { return root }
        let rootNode = try await load(root)
        let height = rootNode.level
        var levelEdits = edits
        var level = 0
        while level < height {
            let (nodes, removed) = try await rewrite(level: level, root: root, edits: levelEdits)
            levelEdits = parentEdits(nodes: nodes, removed: removed)
            level += 1
        }
        var top = Chunker(level: height)
        top.merge(rootNode.entries, levelEdits[...])
        top.finish()
        return try await finishRoot(top.nodes, level: height)
    }

    func load(_ id: ObjectID) async throws -> TreeNode {
        if let made = created[id] { return made.node }
        return try await reader.node(id)
    }

    @discardableResult
    mutating func store(_ node: TreeNode) -> ObjectID {
        let bytes = node.encoded()
        let id = ObjectID.hash(kind: ObjectKind.tree.rawValue, payload: bytes)
        created[id] = (node, bytes)
        return id
    }

    /// Re-cuts the nodes of `level` that the edits fall in. Returns the new nodes and the keys
    /// (in the parent) of the old nodes they replace.
    private mutating func rewrite(level: Int, root: ObjectID, edits: [TreeEdit]) async throws -> ([TreeNode], [[UInt8]]) {
        var made: [TreeNode] = []
        var removed: [[UInt8]] = []
        var i = 0
        while i < edits.count {
            var parent = try await TreeCursor(reader: reader, root: root, seek: edits[i].key, level: level + 1, clamp: true)
            var chunker = Chunker(level: level)
            while let ref = parent.entry {
                let old = try await load(ref.value)
                let last = parent.isLast
                var j = i
                while j < edits.count && (last || !ref.key.lexicographicallyPrecedes(edits[j].key)) { j += 1 }
                chunker.merge(old.entries, edits[i..<j])
                i = j
                removed.append(ref.key)
                if chunker.pending.isEmpty { break }
                if last {
                    chunker.finish()
                    break
                }
                try await parent.advance()
            }
            made.append(contentsOf: chunker.nodes)
        }
        return (made, removed)
    }

    private mutating func parentEdits(nodes: [TreeNode], removed: [[UInt8]]) -> [TreeEdit] {
        var puts: [[UInt8]: ObjectID] = [:]
        for node in nodes {
            let id = store(node)
            puts[node.maxKey!] = id
        }
        var edits = puts.map { TreeEdit(key: $0.key, value: $0.value) }
        for key in removed where puts[key] == nil { edits.append(TreeEdit(key: key, value: nil)) }
        edits.sort { $0.key.lexicographicallyPrecedes($1.key) }
        return edits
    }

    /// Stacks levels on `nodes` until one node remains, then drops single-child roots: the
    /// root is the lowest level that fits in one node, as a build from scratch would make it.
    private mutating func finishRoot(_ nodes: [TreeNode], level: Int) async throws -> ObjectID {
        var current = nodes
        var lvl = level
        if current.isEmpty { return store(.empty) }
        while current.count > 1 {
            var chunker = Chunker(level: lvl + 1)
            for node in current { chunker.append(TreeEntry(key: node.maxKey!, value: store(node))) }
            chunker.finish()
            current = chunker.nodes
            lvl += 1
        }
        var top = current[0]
        while top.level > 0 && top.entries.count == 1 { top = try await load(top.entries[0].value) }
        if top.level == 0 && top.entries.isEmpty { return store(.empty) }
        return store(top)
    }
}
