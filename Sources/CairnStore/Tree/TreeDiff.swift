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
    /// The changes from tree `a` to tree `b`, in path order.
    ///
    /// Two leaf cursors walk in step; whenever both stand at the start of the same subtree (same
    /// id) it is skipped whole, so the cost follows the number of changes, not of files.
    func diff(_ a: ObjectID, _ b: ObjectID, limit: Int = .max, _ emit: (TreeChange) throws -> Void) async throws {
        guard a != b else { return }
        var ca = try await TreeCursor(reader: self, root: a, seek: [])
        var cb = try await TreeCursor(reader: self, root: b, seek: [])
        var emitted = 0
        while emitted < limit {
            switch (ca.entry, cb.entry) {
            case (nil, nil):
                return
            case (let ea?, let eb?) where ea.key == eb.key:
                if let (da, db) = Self.sharedSubtree(ca, cb) {
                    try await ca.skipNode(atDepth: da)
                    try await cb.skipNode(atDepth: db)
                    continue
                }
                if ea.value != eb.value {
                    try emit(TreeChange(key: ea.key, before: ea.value, after: eb.value))
                    emitted += 1
                }
                try await ca.advance()
                try await cb.advance()
            case (let ea?, let eb) where eb == nil || ea.key.lexicographicallyPrecedes(eb!.key):
                try emit(TreeChange(key: ea.key, before: ea.value, after: nil))
                emitted += 1
                try await ca.advance()
            case (_, let eb?):
                try emit(TreeChange(key: eb.key, before: nil, after: eb.value))
                emitted += 1
                try await cb.advance()
            default:
                return
            }
        }
    }

    /// The depths of the highest nodes that both cursors stand at the very start of and that have
    /// the same id, if any.
    private static func sharedSubtree(_ a: TreeCursor, _ b: TreeCursor) -> (Int, Int)? {
        guard a.stack.last?.index == 0, b.stack.last?.index == 0 else { return nil }
        // Depths at which each cursor is at the start of the node (all deeper indexes are 0).
        var da = a.stack.count - 1
        while da > 0 && a.stack[da - 1].index == 0 { da -= 1 }
        var db = b.stack.count - 1
        while db > 0 && b.stack[db - 1].index == 0 { db -= 1 }
        // Compare nodes level by level from the highest both are at the start of.
        var best: (Int, Int)?
        var ia = a.stack.count - 1
        var ib = b.stack.count - 1
        while ia >= da && ib >= db {
            if a.stack[ia].id == b.stack[ib].id { best = (ia, ib) }
            let la = a.stack[ia].node.level
            let lb = b.stack[ib].node.level
            if la == lb { ia -= 1; ib -= 1 } else if la < lb { ia -= 1 } else { ib -= 1 }
        }
        return best
    }
}
