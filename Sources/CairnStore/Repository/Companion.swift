import CairnCore
import Synchronization

/// A second commit that is durable with a change or not at all: the record of the run's call
/// that made the change (DESIGN.md §5: "a call's record is written with its effect, one
/// transaction"). It goes on a branch of another project of the same store (the organization's
/// workflow project), in the same transaction as the change, so a call can never move a run's
/// branch without its record, nor be recorded without its effect.
///
/// The record is rendered once the change's outcome is known (its commit id, the blob each
/// changed path now has), while the transaction is being prepared. A companion is taken by the
/// first commit that carries it; `taken` tells the caller whether its record went that way or is
/// still to write (a call that changed nothing).
public final class Companion: Sendable {
    /// What the record of an outcome is: files to write on the companion's branch.
    public typealias Render = @Sendable (_ outcome: CommitOutcome, _ blobs: [String: ObjectID]) -> [(path: String, content: [UInt8])]

    public let project: Int64
    public let branch: String
    public let metadata: CommitMetadata
    let render: Render
    let audit: AuditHook?
    private let state = Mutex<CommitOutcome?>(nil)

    public init(project: Int64, branch: String, metadata: CommitMetadata, audit: AuditHook? = nil, render: @escaping Render) {
        self.project = project
        self.branch = branch
        self.metadata = metadata
        self.audit = audit
        self.render = render
    }

    /// The companion commit's outcome once a change took it and committed; nil until then.
    public var taken: CommitOutcome? { state.withLock { $0 } }

    func markTaken(_ outcome: CommitOutcome) { state.withLock { $0 = outcome } }
}
