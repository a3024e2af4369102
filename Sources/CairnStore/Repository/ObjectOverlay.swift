import CairnCore
import Synchronization

/// Nodes, commits and index entries made by a group commit that is not durable yet.
///
/// Later commits of the same group build on them, so reads during the group look here first.
final class ObjectOverlay: Sendable {
    private struct State {
        var nodes: [ObjectID: TreeNode] = [:]
        var commits: [ObjectID: Commit] = [:]
        var index: [ObjectID: CommitIndexEntry] = [:]
    }

    private let state = Mutex(State())

    func node(_ id: ObjectID) -> TreeNode? { state.withLock { $0.nodes[id] } }
    func commit(_ id: ObjectID) -> Commit? { state.withLock { $0.commits[id] } }
    func index(_ id: ObjectID) -> CommitIndexEntry? { state.withLock { $0.index[id] } }

    func add(nodes: [ObjectID: (node: TreeNode, bytes: [UInt8])], commit: (ObjectID, Commit), index: CommitIndexEntry) {
        state.withLock { s in
            for (id, made) in nodes { s.nodes[id] = made.node }
            s.commits[commit.0] = commit.1
            s.index[index.id] = index
        }
    }
}
