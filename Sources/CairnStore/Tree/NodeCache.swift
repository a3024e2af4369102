import CairnCore
import Synchronization

/// A bounded cache of decoded tree nodes. Nodes are immutable, so a cached node never goes stale.
///
/// Two generations approximate LRU at a fraction of the bookkeeping: when the young
/// generation fills, it becomes the old one and the previous old one is dropped.
public final class NodeCache: Sendable {
    private struct Key: Hashable {
        let project: Int64
        let id: ObjectID
    }

    private struct State {
        var young: [Key: TreeNode] = [:]
        var old: [Key: TreeNode] = [:]
    }

    private let state = Mutex(State())
    private let capacity: Int

    public init(capacity: Int = 20_000) { self.capacity = capacity }

    func get(project: Int64, id: ObjectID) -> TreeNode? {
        state.withLock { s in
            let key = Key(project: project, id: id)
            if let n = s.young[key] { return n }
            guard let n = s.old[key] else { return nil }
            Self.insert(&s, key, n, capacity)
            return n
        }
    }

    func put(project: Int64, id: ObjectID, node: TreeNode) {
        state.withLock { s in Self.insert(&s, Key(project: project, id: id), node, capacity) }
    }

    private static func insert(_ s: inout State, _ key: Key, _ node: TreeNode, _ capacity: Int) {
        if s.young.count >= capacity {
            s.old = s.young
            s.young = [:]
        }
        s.young[key] = node
    }
}
