import CairnCore

/// A position among the entries of one level of a prolly tree (level 0: the paths), with the
/// path of nodes from the root, so that moving on and skipping whole subtrees are cheap.
struct TreeCursor {
    struct Frame {
        var node: TreeNode
        var index: Int
    }

    let reader: TreeReader
    private var stack: [Frame] = []
    private(set) var exhausted = false

    /// Positions at the first entry with key >= `seek` at `level`. With `clamp`, a key past the
    /// end positions at the level's last entry instead (the node a new largest key belongs to).
    init(reader: TreeReader, root: ObjectID, seek key: [UInt8], level: Int = 0, clamp: Bool = false) async throws {
        self.reader = reader
        var node = try await reader.node(root)
        precondition(node.level >= level, "cursor level above the root")
        while true {
            var i = lowerBound(node.entries, key)
            if i == node.entries.count && clamp && i > 0 { i -= 1 }
            stack.append(Frame(node: node, index: i))
            if i == node.entries.count {
                exhausted = true
                return
            }
            if node.level == level { return }
            node = try await reader.node(node.entries[i].value)
        }
    }

    var entry: TreeEntry? {
        guard !exhausted, let f = stack.last, f.index < f.node.entries.count else { return nil }
        return f.node.entries[f.index]
    }

    /// True when no entry follows the current one on this level, in the whole tree.
    var isLast: Bool {
        stack.allSatisfy { $0.index == $0.node.entries.count - 1 }
    }

    mutating func advance() async throws {
        guard !exhausted else { return }
        try await moveOn(fromDepth: stack.count - 1)
    }

    private mutating func moveOn(fromDepth start: Int) async throws {
        var d = start
        stack[d].index += 1
        while stack[d].index >= stack[d].node.entries.count {
            if d == 0 {
                exhausted = true
                return
            }
            d -= 1
            stack[d].index += 1
        }
        while d < stack.count - 1 {
            let child = try await reader.node(stack[d].node.entries[stack[d].index].value)
            d += 1
            stack[d] = Frame(node: child, index: 0)
        }
    }
}
