import CairnCore
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
        guard parts.count == 3, let headerData = Self.base64URL(parts[0]),
            let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any]
        else { throw Self.fail("the token is not a JWT") }
        let alg = header["alg"] as? String ?? ""
        guard let expectedKind = Self.allowedAlgorithms[alg] else {
            throw Self.fail("the token's algorithm '\(alg)' is not allowed (RS256, ES256 or EdDSA)")
        }
        guard let kid = header["kid"] as? String, !kid.isEmpty else { throw Self.fail("the token names no key id (kid)") }

        let url = try await jwksURL(settings)
        var set = sets[url]
        if set?.kinds[kid] == nil {
            let last = lastFetch[url] ?? .distantPast
            if set == nil || Date().timeIntervalSince(last) >= refetchInterval {
                set = try await fetch(url)
            }
        }
        guard let set, let kind = set.kinds[kid] else { throw Self.fail("the token was signed with an unknown key (kid '\(kid)')") }
        guard kind == expectedKind else {
            throw Self.fail("the token's algorithm '\(alg)' does not fit its key (kty '\(kind)')")
        }
        let claims: StandardClaims
        do {
            claims = try await set.collection.verify(token, as: StandardClaims.self)
        } catch {
            throw Self.fail("the token's signature does not verify")
        }
        let now = Date().timeIntervalSince1970
        let skew = Double(settings.clockSkewSeconds)
        guard claims.iss == settings.issuer else { throw Self.fail("the token's issuer is not this organization's identity provider") }
        guard claims.aud?.value.contains(settings.audience) == true else { throw Self.fail("the token is meant for another audience") }
        guard let exp = claims.exp else { throw Self.fail("the token has no expiry") }
        guard exp.value.timeIntervalSince1970 + skew > now else { throw Self.fail("the token has expired") }
        if let nbf = claims.nbf, nbf.value.timeIntervalSince1970 - skew > now { throw Self.fail("the token is not valid yet") }
        if let iat = claims.iat, iat.value.timeIntervalSince1970 - skew > now { throw Self.fail("the token was issued in the future") }

        guard let payloadData = Self.base64URL(parts[1]), let payload = try? JSONSerialization.jsonObject(with: payloadData) as? [String: Any],
            let user = payload[settings.userClaim] as? String, !user.isEmpty
        else { throw Self.fail("the token has no '\(settings.userClaim)' claim naming the user") }
        let groups = (payload[settings.groupsClaim] as? [Any])?.compactMap { $0 as? String } ?? []
        return Identity(user: user, groups: groups)
    }

    private func jwksURL(_ settings: IdentitySettings) async throws -> String {
        if let u = settings.jwksURL { return u }
        if let u = discovered[settings.issuer] { return u }
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
        guard let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let keys = doc["keys"] as? [[String: Any]] else {
            throw Self.fail("the identity provider's key set is not a JWKS document")
        }
        var kinds: [String: String] = [:]
        for k in keys {
            if let kid = k["kid"] as? String, let kty = k["kty"] as? String { kinds[kid] = kty }
        }
        let collection = JWTKeyCollection()
        do {
            let jwks = try JSONDecoder().decode(JWKS.self, from: data)
            try await collection.add(jwks: jwks)
        } catch {
            throw Self.fail("the identity provider's key set could not be read: \(error)")
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
