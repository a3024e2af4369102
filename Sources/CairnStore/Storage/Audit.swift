import CairnCore
import Crypto

/// An audit record to append. The store only chains and indexes it: what the body says is the
/// governance layer's business. The indexed columns let queries filter without decoding bodies.
public struct AuditAppend: Sendable {
    public var organization: Int64
    public var timeMillis: Millis
    public var actor: String
    public var action: String
    public var outcome: String
    /// The canonical JSON of the record; hashed exactly as stored.
    public var body: [UInt8]

    public init(organization: Int64, timeMillis: Millis, actor: String, action: String, outcome: String, body: [UInt8]) {
        self.organization = organization
        self.timeMillis = timeMillis
        self.actor = actor
        self.action = action
        self.outcome = outcome
        self.body = body
    }
}

/// A stored audit record with its place in its organization's hash chain.
public struct AuditEntry: Sendable, Equatable {
    public let seq: Int64
    public let timeMillis: Millis
    public let actor: String
    public let action: String
    public let outcome: String
    public let body: [UInt8]
    public let previousHash: ObjectID
    public let hash: ObjectID

    public init(
        seq: Int64,
        timeMillis: Millis,
        actor: String,
        action: String,
        outcome: String,
        body: [UInt8],
        previousHash: ObjectID,
        hash: ObjectID
    ) {
        self.seq = seq
        self.timeMillis = timeMillis
        self.actor = actor
        self.action = action
        self.outcome = outcome
        self.body = body
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// Column filters a backend applies in its query; anything finer is filtered above it.
public struct AuditFilter: Sendable, Equatable {
    public var actor: String?
    public var action: String?
    public var outcome: String?
    public var sinceMillis: Millis?
    public var untilMillis: Millis?

    public init(actor: String? = nil, action: String? = nil, outcome: String? = nil, sinceMillis: Millis? = nil, untilMillis: Millis? = nil)
    {
        self.actor = actor
        self.action = action
        self.outcome = outcome
        self.sinceMillis = sinceMillis
        self.untilMillis = untilMillis
    }
}

/// The hash chain every backend computes the same way: each entry's hash covers the previous
/// hash, its own sequence number and its body, so changing, dropping or reordering any stored
/// entry breaks every later link.
public enum AuditChain {
    /// The "previous hash" of an organization's first entry.
    public static let genesis = ObjectID(w0: 0, w1: 0, w2: 0, w3: 0)

    /// The chain link: each entry's hash covers the previous hash, its sequence number and its
    /// body, so no entry can be changed, removed or inserted unnoticed.
    public static func hash(previous: ObjectID, seq: Int64, body: [UInt8]) -> ObjectID {
        var hasher = SHA256()
        var writer = ByteWriter()
        writer.id(previous)
        withUnsafeBytes(of: UInt64(bitPattern: seq).bigEndian) { writer.raw($0) }
        hasher.update(data: writer.bytes)
        hasher.update(data: body)
        return ObjectID(digest: hasher.finalize())
    }
}
