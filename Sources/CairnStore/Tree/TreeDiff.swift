import CairnCore

/// A path whose blob differs between two trees; `nil` on a side means absent there.
public struct TreeChange: Sendable, Equatable {
    public let key: [UInt8]
    public let before: ObjectID?
    public let after: ObjectID?

    public var path: String { String(decoding: key, as: UTF8.self) }

    public var kind: ChangeKind {
        switch (before, after) {
        case (nil, _): .added
        case (_, nil): .deleted
        default: .modified
        }
    }
}

extension TreeReader {
    /// The changes from tree `a` to tree `b`, in path order, at most `limit` of them.
    ///
    /// Each side is a stack of pending items, subtrees by id or single entries, smallest key on
    /// top. Two subtrees with the same id on top are skipped without being read; otherwise the
    /// higher (or, at equal height, both) is opened. Only nodes on the way to a change are ever
    /// loaded, so the cost follows the number of changes, not the number of files.
    func diff(_ a: ObjectID, _ b: ObjectID, limit: Int = .max, _ emit: (TreeChange) throws -> Void) async throws {
        guard a != b else { return }
        var left: [DiffItem] = [.subtree(a, level: try await node(a).level)]
        var right: [DiffItem] = [.subtree(b, level: try await node(b).level)]
        var emitted = 0
        while emitted < limit {
            switch (left.last, right.last) {
            case (nil, nil):
                return
            case (.subtree(let x, let lx)?, .subtree(let y, let ly)?):
                if x == y {
                    left.removeLast()
                    right.removeLast()
                } else {
                    if lx >= ly { try await open(&left) }
                    if ly >= lx { try await open(&right) }
                }
            case (.subtree?, _):
                try await open(&left)
            case (_, .subtree?):
                try await open(&right)
            case (.entry(let x)?, .entry(let y)?):
                if x.key == y.key {
                    left.removeLast()
                    right.removeLast()
                    if x.value != y.value {
                        try emit(TreeChange(key: x.key, before: x.value, after: y.value))
                        emitted += 1
                    }
                } else if x.key.lexicographicallyPrecedes(y.key) {
                    left.removeLast()
                    try emit(TreeChange(key: x.key, before: x.value, after: nil))
                    emitted += 1
                } else {
                    right.removeLast()
                    try emit(TreeChange(key: y.key, before: nil, after: y.value))
                    emitted += 1
                }
            case (.entry(let x)?, nil):
                left.removeLast()
                try emit(TreeChange(key: x.key, before: x.value, after: nil))
                emitted += 1
            case (nil, .entry(let y)?):
                right.removeLast()
                try emit(TreeChange(key: y.key, before: nil, after: y.value))
                emitted += 1
            }
        }
    }

    /// Replaces the subtree on top of `stack` by its children (or entries), smallest on top.
    private func open(_ stack: inout [DiffItem]) async throws {
        guard case .subtree(let id, _)? = stack.popLast() else { return }
        let n = try await node(id)
        if n.level == 0 {
            for e in n.entries.reversed() { stack.append(.entry(e)) }
        } else {
            for e in n.entries.reversed() { stack.append(.subtree(e.value, level: n.level - 1)) }
        }
    }
}

private enum DiffItem {
    case subtree(ObjectID, level: Int)
    case entry(TreeEntry)
}
