import CairnCore
import Synchronization

/// A record that is durable with a change or not at all: the record of the run's call that made
/// the change (DESIGN.md §5: "a call's record is written with its effect, one transaction"). It
/// is appended in the same transaction as the change, so a call can never move a run's branch
/// without its record, nor be recorded without its effect.
///
/// The record is rendered once the change's outcome is known (its commit id, the blob each
/// changed path now has), while the transaction is being prepared. A companion is taken by the
/// first commit that carries it; `taken` tells the caller whether its record went that way or is
/// still to write (a call that changed nothing).
public final class Companion: Sendable {
    /// What the record of an outcome is; a record that cannot be rendered fails the change.
    public typealias Render = @Sendable (_ outcome: CommitOutcome, _ blobs: [String: ObjectID]) throws -> RunCallRecord

    /// The audit line of a recorded outcome; it sees the record, to name it by its digest.
    public typealias Audit = @Sendable (_ outcome: CommitOutcome, _ record: RunCallRecord) -> AuditAppend

    let render: Render
    let audit: Audit?
    private let state = Mutex<CommitOutcome?>(nil)

    public init(audit: Audit? = nil, render: @escaping Render) {
        self.audit = audit
        self.render = render
    }

    /// The outcome of the change that took the record, once it committed; nil until then.
    public var taken: CommitOutcome? { state.withLock { $0 } }

    func markTaken(_ outcome: CommitOutcome) { state.withLock { $0 = outcome } }
}
