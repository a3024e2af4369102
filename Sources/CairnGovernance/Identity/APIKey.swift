import CairnCore
import CairnStore
import Crypto
import Foundation

/// An API key's stored metadata. The secret itself is never stored: only its SHA-256, compared
/// in constant time. A key acts for `subject`, limited to `role` on its scope, until it expires
/// or is revoked (revocation is a config commit, so it takes effect on the next request).
public struct APIKeyRecord: Sendable, Codable, Equatable {
    /// Who a key speaks for: a person, an agent (whose calls are runs), or a service; the kind is
    /// recorded with every action taken with it.
    public enum Kind: String, Sendable, Codable { case user, agent, service }

    public var id: String
    public var kind: Kind
    public var subject: String
    public var role: String
    public var project: String?
    public var path: String?
    public var expiresAt: String?
    public var createdBy: String
    public var createdAt: String
    public var revokedAt: String?
    public var description: String?
    /// Hex SHA-256 of the secret part of the token.
    public var secretHash: String

    /// The scope as a grant target: the narrowest of organization, project, path.
    public var scope: GrantTarget {
        guard let project else { return .organization }
        if let path { return .path(project: project, glob: path) }
        return .project(project)
    }

    public var expiresMillis: Millis? { expiresAt.flatMap(Clock.parseRFC3339) }

    /// A workflow's scope as a key the policy reads like any service key (its role on its
    /// project and path, never beyond the person behind it); never stored, it has no secret.
    public static func workflowScope(subject: String, role: String, project: String, path: String?, enabledBy: String) -> APIKeyRecord {
        APIKeyRecord(
            id: "workflow",
            kind: .service,
            subject: subject,
            role: role,
            project: project,
            path: path,
            expiresAt: nil,
            createdBy: enabledBy,
            createdAt: "",
            revokedAt: nil,
            description: "workflow scope",
            secretHash: ""
        )
    }

    /// The record without its hash, for listings.
    public var redacted: APIKeyRecord {
        var copy = self
        copy.secretHash = ""
        return copy
    }
}

/// The token format `cairn_<id>_<secret>`: the id finds the record, the secret proves possession.
public enum APIKeyToken {
    public static let prefix = "cairn_"

    /// A new key id and token; the token is shown once and never stored.
    public static func mint() -> (id: String, token: String, secretHash: String) {
        let id = Hex.random(bytes: 8)
        let secret = Hex.random(bytes: 32)
        return (id, "\(prefix)\(id)_\(secret)", hash(secret))
    }

    /// Splits a presented token into its id and secret; nil for anything not shaped like a Cairn
    /// key, so a malformed token is refused before any lookup.
    public static func parse(_ token: String) -> (id: String, secret: String)? {
        guard token.hasPrefix(prefix) else { return nil }
        let rest = token.dropFirst(prefix.count)
        guard let sep = rest.firstIndex(of: "_") else { return nil }
        let id = String(rest[..<sep])
        let secret = String(rest[rest.index(after: sep)...])
        guard id.count == 16, secret.count == 64, id.allSatisfy(\.isHexDigit), secret.allSatisfy(\.isHexDigit) else { return nil }
        return (id, secret)
    }

    /// The SHA-256 of a secret, as stored: keys are kept hashed at rest, so the store never holds a
    /// usable token.
    public static func hash(_ secret: String) -> String {
        Hex.encode(Array(SHA256.hash(data: Array(secret.utf8))))
    }

    /// Compares two secrets' hashes without an early exit, so timing says nothing about where they differ.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
