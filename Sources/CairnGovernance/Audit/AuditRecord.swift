import CairnCore
import CairnStore
import Foundation

/// One audit record: who did what, where, when and why, what the policy said, and what came of it.
/// Stored as canonical JSON (sorted keys), which is exactly what the hash chain covers.
public struct AuditRecord: Sendable, Codable, Equatable {
    public var time: String
    public var organization: String
    public var actor: String
    public var actorKind: String
    public var credential: String?
    public var onBehalfOf: String?
    public var action: String
    public var authority: String?
    public var project: String?
    public var branch: String?
    public var paths: [String]?
    /// `ok`, `denied`, `failed` or `unauthenticated`.
    public var outcome: String
    public var rule: String?
    public var configCommit: String?
    public var commit: String?
    public var reason: String?
    public var error: String?
    public var detail: [String: String]?

    public init(
        organization: String,
        actor: String,
        actorKind: String,
        action: String,
        outcome: String,
        credential: String? = nil,
        onBehalfOf: String? = nil,
        authority: String? = nil,
        project: String? = nil,
        branch: String? = nil,
        paths: [String]? = nil,
        rule: String? = nil,
        configCommit: String? = nil,
        commit: String? = nil,
        reason: String? = nil,
        error: String? = nil,
        detail: [String: String]? = nil,
        timeMillis: Millis = Clock.nowMillis()
    ) {
        self.time = Clock.rfc3339(timeMillis)
        self.organization = organization
        self.actor = actor
        self.actorKind = actorKind
        self.credential = credential
        self.onBehalfOf = onBehalfOf
        self.action = action
        self.authority = authority
        self.project = project
        self.branch = branch
        self.paths = paths
        self.outcome = outcome
        self.rule = rule
        self.configCommit = configCommit
        self.commit = commit
        self.reason = reason
        self.error = error
        self.detail = detail
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// The record's bytes as hashed into the chain: sorted keys, so the same record always hashes
    /// the same.
    public func canonicalBytes() -> [UInt8] {
        // Encoding a struct of strings cannot fail.
        Array((try? Self.encoder.encode(self)) ?? Data())
    }

    package func append(organization id: Int64) -> AuditAppend {
        AuditAppend(
            organization: id,
            timeMillis: Clock.parseRFC3339(time) ?? Clock.nowMillis(),
            actor: actor,
            action: action,
            outcome: outcome,
            body: canonicalBytes()
        )
    }
}

/// A stored record with its chain position, as the query API returns it.
public struct AuditItem: Sendable, Codable, Equatable {
    public let seq: Int64
    public let hash: String
    public let previousHash: String
    public let record: AuditRecord
}
