import CairnCore
import Synchronization

/// A cache of decoded tree nodes bounded by the memory they take, not by their count: nodes
/// differ a hundredfold in size (a leaf of long paths against an inner node), so a count bound
/// let a server grow by the size of each write. Nodes are immutable: a cached node never goes stale.
///
/// Two generations approximate LRU at a fraction of the bookkeeping: when the young
/// generation holds half the budget, it becomes the old one and the previous old one is dropped,
/// so the cache holds at most `capacityBytes` (estimated: keys, ids and array overheads).
public final class NodeCache: Sendable {
    private struct Key: Hashable {
        let project: Int64
        let id: ObjectID
    }

    private struct State {
        var young: [Key: TreeNode] = [:]
        var old: [Key: TreeNode] = [:]
        var youngBytes = 0
        var oldBytes = 0
    }

    private let state = Mutex(State())
    public let capacityBytes: Int

    /// 64 MiB unless the operator says otherwise (`nodeCacheBytes`).
    public init(capacityBytes: Int = 64 << 20) { self.capacityBytes = max(1 << 16, capacityBytes) }

    /// The estimated bytes held now, for `/metrics`.
    public var bytes: Int { state.withLock { $0.youngBytes + $0.oldBytes } }

    func get(project: Int64, id: ObjectID) -> TreeNode? {
        state.withLock { s in
            let key = Key(project: project, id: id)
            if let n = s.young[key] { return n }
            guard let n = s.old[key] else { return nil }
            insert(&s, key, n)
            return n
        }
    }

    func put(project: Int64, id: ObjectID, node: TreeNode) {
        state.withLock { s in insert(&s, Key(project: project, id: id), node) }
    }

    /// Dictionary slot, node header and array storage, plus each entry's key bytes, id and array header.
    static func estimate(_ node: TreeNode) -> Int {
        node.entries.reduce(160) { $0 + $1.key.count + 32 + 56 }
    }

    private func insert(_ s: inout State, _ key: Key, _ node: TreeNode) {
        guard s.young[key] == nil else { return }
        let size = Self.estimate(node)
        if s.youngBytes + size > capacityBytes / 2 {
            s.old = s.young
            s.oldBytes = s.youngBytes
            s.young = [:]
            s.youngBytes = 0
        }
        s.young[key] = node
        s.youngBytes += size
    }
}
