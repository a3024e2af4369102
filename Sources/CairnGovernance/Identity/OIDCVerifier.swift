import CairnCore
import CairnStore
import Foundation
import JWTKit
import Logging

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Verifies an organization's OIDC ID tokens against its provider's published keys (JWKS).
///
/// Only RS256, ES256 and EdDSA are accepted, whatever the token's header says, so `alg: none`
/// and HS256-signed-with-the-public-key tokens fail before any key is used. Keys are cached per
/// JWKS URL; an unknown `kid` refetches the set (at most once per `refetchInterval`), which is
/// what makes the provider's key rotation work without a restart.
actor OIDCVerifier {
    static let allowedAlgorithms: [String: String] = ["RS256": "RSA", "ES256": "EC", "EdDSA": "OKP"]

    private struct KeySet {
        let collection: JWTKeyCollection
        /// kid → key type (`kty`) as published.
        let kinds: [String: String]
        let fetched: Date
    }

    private var sets: [String: KeySet] = [:]
    private var lastFetch: [String: Date] = [:]
    private var discovered: [String: String] = [:]
    private let refetchInterval: TimeInterval
    private let logger: Logger

    init(logger: Logger, refetchInterval: TimeInterval = 10) {
        self.logger = logger
        self.refetchInterval = refetchInterval
    }

    struct Identity: Sendable {
        let user: String
        let groups: [String]
    }

    func verify(_ token: String, settings: IdentitySettings) async throws -> Identity {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Self.base64URL(parts[0]) else { throw Self.fail("the token is not a JWT") }
        // Header and payload are read once, by one parser that refuses duplicate members, and every
        // check below reads that one reading (RFC 7515 §4, RFC 7519 §4).
        guard case .object(let header)? = JSONValue.parse(Array(headerData), rejectingDuplicateMembers: true) else {
            throw Self.fail("the token's header is not a JSON object with distinct members")
        }
        // RFC 7515 §4.1.11: Cairn understands no critical extension, so any `crit` (even empty) is refused.
        if header["crit"] != nil { throw Self.fail("the token names critical header extensions (crit) that Cairn does not understand") }
        guard case .string(let alg)? = header["alg"], let expectedKind = Self.allowedAlgorithms[alg] else {
            throw Self.fail("the token's algorithm is not allowed (RS256, ES256 or EdDSA)")
        }
        guard case .string(let kid)? = header["kid"], !kid.isEmpty, kid.utf8.count <= 256 else {
            throw Self.fail("the token names no usable key id (kid)")
        }
        guard let payloadData = Self.base64URL(parts[1]),
            case .object(let payload)? = JSONValue.parse(Array(payloadData), rejectingDuplicateMembers: true)
        else { throw Self.fail("the token's payload is not a JSON object with distinct members") }

        let url = try await jwksURL(settings)
        var set = sets[url]
        if set?.kinds[kid] == nil, Date().timeIntervalSince(lastFetch[url] ?? .distantPast) >= refetchInterval {
            // Failures count as fetches too: an unreadable key set is asked for again only after
            // the interval, so unauthenticated callers cannot make the server flood the provider.
            set = try await fetch(url)
        }
        guard let set else { throw Self.fail("the identity provider's key set is not available") }
        guard let kind = set.kinds[kid] else { throw Self.fail("the token was signed with an unknown key") }
        guard kind == expectedKind else { throw Self.fail("the token's algorithm '\(alg)' does not fit its key (kty '\(kind)')") }
        do {
            _ = try await set.collection.verify(token, as: StandardClaims.self)
        } catch {
            throw Self.fail("the token's signature does not verify")
        }
        let now = Date().timeIntervalSince1970
        let skew = Double(settings.clockSkewSeconds)
        guard case .string(let iss)? = payload["iss"], iss == settings.issuer else {
            throw Self.fail("the token's issuer is not this organization's identity provider")
        }
        let audiences: [String] =
            switch payload["aud"] {
            case .string(let a)?: [a]
            case .array(let list)?: list.compactMap { if case .string(let a) = $0 { a } else { nil } }
            default: []
            }
        guard audiences.contains(settings.audience) else { throw Self.fail("the token is meant for another audience") }
        guard let exp = Self.seconds(payload["exp"]) else { throw Self.fail("the token has no expiry") }
        guard exp + skew > now else { throw Self.fail("the token has expired") }
        if payload["nbf"] != nil {
            guard let nbf = Self.seconds(payload["nbf"]), nbf - skew <= now else { throw Self.fail("the token is not valid yet") }
        }
        if payload["iat"] != nil {
            guard let iat = Self.seconds(payload["iat"]), iat - skew <= now else { throw Self.fail("the token was issued in the future") }
        }
        guard case .string(let user)? = payload[settings.userClaim], !user.isEmpty else {
            throw Self.fail("the token has no '\(settings.userClaim)' claim naming the user")
        }
        // A subject or group the grant rules could not name (control characters, line breaks, NUL,
        // over 248 characters) is refused: it would otherwise forge lines in logs and listings.
        guard Grant.isNameable(Substring(user)) else {
            throw Self.fail("the token's '\(settings.userClaim)' claim is not a subject Cairn can name")
        }
        var groups: [String] = []
        switch payload[settings.groupsClaim] {
        case nil, .null?: break
        case .array(let list)?:
            for g in list {
                guard case .string(let name) = g, Grant.isNameable(Substring(name)) else {
                    throw Self.fail("the token's '\(settings.groupsClaim)' claim holds a group Cairn cannot name")
                }
                groups.append(name)
            }
        default: throw Self.fail("the token's '\(settings.groupsClaim)' claim is not a list of group names")
        }
        return Identity(user: user, groups: groups)
    }

    /// A NumericDate (RFC 7519 §2): seconds since the epoch, integer or not.
    private static func seconds(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let i)?: Double(i)
        case .double(let d)?: d.isFinite ? d : nil
        default: nil
        }
    }

    private func jwksURL(_ settings: IdentitySettings) async throws -> String {
        if let u = settings.jwksURL { return u }
        if let u = discovered[settings.issuer] { return u }
        // A discovery that failed is not tried again before the interval, like a key set.
        let key = "discovery " + settings.issuer
        guard Date().timeIntervalSince(lastFetch[key] ?? .distantPast) >= refetchInterval else {
            throw Self.fail("the identity provider's discovery document is not available")
        }
        lastFetch[key] = Date()
        let base = settings.issuer.hasSuffix("/") ? String(settings.issuer.dropLast()) : settings.issuer
        let data = try await get(base + "/.well-known/openid-configuration")
        guard let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let u = doc["jwks_uri"] as? String else {
            throw Self.fail("the identity provider's discovery document names no jwks_uri")
        }
        discovered[settings.issuer] = u
        return u
    }

    private func fetch(_ url: String) async throws -> KeySet {
        lastFetch[url] = Date()
        let data = try await get(url)
        guard let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let keys = doc["keys"] as? [Any] else {
            throw Self.fail("the identity provider's key set is not a JWKS document")
        }
        // Keys are read and added one by one: one the library cannot use (a 512-bit RSA key, an
        // unknown key type or curve) is left out and logged, and the others still verify tokens.
        let collection = JWTKeyCollection()
        var kinds: [String: String] = [:]
        for case let object as [String: Any] in keys {
            guard let kid = object["kid"] as? String else { continue }
            do {
                let jwk = try JSONDecoder().decode(JWK.self, from: try JSONSerialization.data(withJSONObject: object))
                try await collection.add(jwk: jwk)
                kinds[kid] = jwk.keyType.rawValue
            } catch {
                logger.warning(
                    "left out an unusable key of the identity provider",
                    metadata: ["url": "\(url)", "kid": "\(kid.prefix(64))", "error": "\(error)"]
                )
            }
        }
        let set = KeySet(collection: collection, kinds: kinds, fetched: Date())
        sets[url] = set
        logger.info("fetched identity provider keys", metadata: ["url": "\(url)", "keys": "\(kinds.count)"])
        return set
    }

    private func get(_ url: String) async throws -> Data {
        guard let u = URL(string: url) else { throw Self.fail("the identity provider URL '\(url)' is not valid") }
        var request = URLRequest(url: u)
        request.timeoutInterval = 5
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            guard (response as? HTTPURLResponse)?.statusCode == 200 else {
                throw Self.fail("the identity provider answered \((response as? HTTPURLResponse)?.statusCode ?? 0) for \(url)")
            }
            return data
        } catch let e as CairnError {
            throw e
        } catch {
            throw Self.fail("the identity provider at \(url) could not be reached")
        }
    }

    static func fail(_ message: String) -> CairnError { CairnError(.unauthenticated, message) }

    static func base64URL(_ s: Substring) -> Data? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)
    }
}

/// The registered claims every ID token carries; checks happen in `OIDCVerifier` with the
/// organization's issuer, audience and clock skew.
struct StandardClaims: JWTPayload {
    var iss: String?
    var aud: AudienceClaim?
    var exp: ExpirationClaim?
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
