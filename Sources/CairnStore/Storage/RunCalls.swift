import CairnCore
import Crypto

/// One call of a run, as its run's history holds it: appended once, never changed, keyed by
/// the run's project, the run and the call's number.
///
/// A call's record is a row of its own rather than a file committed to the workflow project:
/// it is written with the call's commit (one transaction) or alone for a call that changed
/// nothing, and either way costs one small insert, not a chain of tree objects and a second
/// branch head that every run of the organization would contend for. What the body says is the
/// engine's business; the store only keeps it in order.
public struct RunCallRecord: Sendable, Equatable {
    public var project: Int64
    public var run: String
    public var seq: Int64
    public var timeMillis: Millis
    /// The call's record as JSON.
    public var body: [UInt8]

    /// SHA-256 of the body, lowercase hex: the call's audit line carries it, so the rows stay
    /// under the audit log's hash chain (a row altered, removed or added is found by `verify`).
    public var digest: String { Hex.encode(Array(SHA256.hash(data: body))) }

    public init(project: Int64, run: String, seq: Int64, timeMillis: Millis, body: [UInt8]) {
        self.project = project
        self.run = run
        self.seq = seq
        self.timeMillis = timeMillis
        self.body = body
    }
}
