import CairnCore

/// Who acted, as recorded on a commit.
public enum ActorKind: String, Sendable, Codable, CaseIterable {
    case user, agent, service, system
}

/// An immutable snapshot of a whole project tree plus who, what, when and why.
///
/// The id hashes every field including the parent ids, so history is a hash chain: changing
/// any past byte changes every later id, which `verify` detects.
public struct Commit: Sendable, Equatable, Codable {
    public var tree: ObjectID
    public var parents: [ObjectID]
    public var author: String
    public var onBehalfOf: String?
    public var actorKind: ActorKind
    public var runID: String?
    public var step: Int?
    public var timeMillis: Millis
    public var message: String
    public var approvals: [ObjectID]

    public init(
        tree: ObjectID,
        parents: [ObjectID],
        author: String,
        onBehalfOf: String? = nil,
        actorKind: ActorKind = .user,
        runID: String? = nil,
        step: Int? = nil,
        timeMillis: Millis,
        message: String,
        approvals: [ObjectID] = []
    ) {
        self.tree = tree
        self.parents = parents
        self.author = author
        self.onBehalfOf = onBehalfOf
        self.actorKind = actorKind
        self.runID = runID
        self.step = step
        self.timeMillis = timeMillis
        self.message = message
        self.approvals = approvals
    }

    static let formatVersion: UInt8 = 1

    /// The canonical bytes hashed into the commit's id.
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.u8(Self.formatVersion)
        w.id(tree)
        w.varint(parents.count)
        for parent in parents { w.id(parent) }
        w.string(author)
        w.optionalString(onBehalfOf)
        w.string(actorKind.rawValue)
        w.optionalString(runID)
        if let step {
            w.u8(1)
            w.varint(step)
        } else {
            w.u8(0)
        }
        w.varint(UInt64(bitPattern: timeMillis))
        w.string(message)
        w.varint(approvals.count)
        for approval in approvals { w.id(approval) }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(CairnError) {
        var r = ByteReader(bytes)
        do {
            guard try r.u8() == Self.formatVersion else { throw ByteReader.Malformed() }
            let tree = try r.id()
            let parentCount = try r.int()
            guard parentCount <= 64 else { throw ByteReader.Malformed() }
            var parents: [ObjectID] = []
            for _ in 0..<parentCount { parents.append(try r.id()) }
            let author = try r.string()
            let onBehalfOf = try r.optionalString()
            guard let kind = ActorKind(rawValue: try r.string()) else { throw ByteReader.Malformed() }
            let runID = try r.optionalString()
            let step: Int? = try r.u8() == 1 ? try r.int() : nil
            let time = Int64(bitPattern: try r.varint())
            let message = try r.string()
            let approvalCount = try r.int()
            guard approvalCount <= 1024 else { throw ByteReader.Malformed() }
            var approvals: [ObjectID] = []
            for _ in 0..<approvalCount { approvals.append(try r.id()) }
            guard r.atEnd else { throw ByteReader.Malformed() }
            self.init(
                tree: tree,
                parents: parents,
                author: author,
                onBehalfOf: onBehalfOf,
                actorKind: kind,
                runID: runID,
                step: step,
                timeMillis: time,
                message: message,
                approvals: approvals
            )
        } catch {
            throw CairnError(.corrupt, "a commit does not decode")
        }
    }

    public var id: ObjectID { ObjectID.hash(kind: ObjectKind.commit.rawValue, payload: encoded()) }
}
