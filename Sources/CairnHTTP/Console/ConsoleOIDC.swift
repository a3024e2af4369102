import CairnCore
import CairnGovernance
import Crypto
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The console's sign-in through the organization's identity provider: OAuth 2.0 authorization
/// code with PKCE (RFC 7636, S256), the console as a public client whose id is the provider's
/// audience. The server keeps each attempt's verifier (never sent to the browser) for ten
/// minutes; the ID token the provider returns is checked by the Gateway like any bearer token
/// and then stands behind the console's session cookie until it expires.
///
/// Written here because no package of the mirror does the client side of the code flow; the
/// token itself is verified by the Gateway's OIDC verifier (JWTKit).
final class ConsoleOIDC: Sendable {
    struct Attempt: Sendable {
        let organization: String
        let verifier: String
        let redirect: String
        let tokenEndpoint: String
        let clientID: String
        let expires: Date
    }

    private let attempts = Mutex<[String: Attempt]>([:])

    /// The provider's endpoints, from its discovery document; both must be on the issuer's own
    /// origin (the only host the organization named), or sign-in is refused.
    func endpoints(_ settings: IdentitySettings) async throws -> (authorization: String, token: String) {
        let base = settings.issuer.hasSuffix("/") ? String(settings.issuer.dropLast()) : settings.issuer
        let data = try await Self.fetch(URLRequest(url: try Self.url(base + "/.well-known/openid-configuration")))
        guard let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let authorization = doc["authorization_endpoint"] as? String, let token = doc["token_endpoint"] as? String
        else {
            throw CairnError(.unauthenticated, "the identity provider's discovery document names no authorization or token endpoint")
        }
        let origin = try Self.origin(base)
        guard try Self.origin(authorization) == origin, try Self.origin(token) == origin else {
            throw CairnError(.unauthenticated, "the identity provider's endpoints are not on its issuer's host")
        }
        return (authorization, token)
    }

    /// A new attempt: its state (the key to find it again) and the URL to send the browser to.
    func start(organization: String, settings: IdentitySettings, redirect: String) async throws -> String {
        let (authorization, token) = try await endpoints(settings)
        let verifier = Self.random()
        let challenge = Self.base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
        let state = Self.random()
        attempts.withLock { all in
            let now = Date()
            all = all.filter { $0.value.expires > now }
            all[state] = Attempt(
                organization: organization,
                verifier: verifier,
                redirect: redirect,
                tokenEndpoint: token,
                clientID: settings.audience,
                expires: now.addingTimeInterval(600)
            )
        }
        var components = URLComponents(string: authorization)
        let given = components?.queryItems ?? []
        components?.queryItems =
            given + [
                URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "client_id", value: settings.audience),
                URLQueryItem(name: "redirect_uri", value: redirect), URLQueryItem(name: "scope", value: "openid"),
                URLQueryItem(name: "state", value: state), URLQueryItem(name: "code_challenge", value: challenge),
                URLQueryItem(name: "code_challenge_method", value: "S256"),
            ]
        guard let url = components?.string else { throw CairnError(.unauthenticated, "the identity provider's endpoint is not a URL") }
        return url
    }

    /// The attempt a callback's state names (each used once), and the ID token its code buys.
    func finish(state: String, code: String) async throws -> (organization: String, idToken: String) {
        guard let attempt = attempts.withLock({ $0.removeValue(forKey: state) }), attempt.expires > Date() else {
            throw CairnError(.unauthenticated, "this sign-in was not started here, was used already, or took over ten minutes")
        }
        var request = URLRequest(url: try Self.url(attempt.tokenEndpoint))
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        var form = URLComponents()
        form.queryItems = [
            URLQueryItem(name: "grant_type", value: "authorization_code"), URLQueryItem(name: "code", value: code),
            URLQueryItem(name: "redirect_uri", value: attempt.redirect), URLQueryItem(name: "client_id", value: attempt.clientID),
            URLQueryItem(name: "code_verifier", value: attempt.verifier),
        ]
        request.httpBody = Data((form.percentEncodedQuery ?? "").utf8)
        let data = try await Self.fetch(request)
        guard let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let token = doc["id_token"] as? String else {
            throw CairnError(.unauthenticated, "the identity provider returned no ID token")
        }
        return (attempt.organization, token)
    }

    private static func fetch(_ request: URLRequest) async throws -> Data {
        var request = request
        request.timeoutInterval = 5
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            guard (response as? HTTPURLResponse)?.statusCode == 200 else {
                throw CairnError(.unauthenticated, "the identity provider refused the sign-in")
            }
            return data
        } catch let error as CairnError {
            throw error
        } catch {
            throw CairnError(.unauthenticated, "the identity provider could not be reached")
        }
    }

    private static func url(_ text: String) throws -> URL {
        guard let u = URL(string: text), u.scheme == "https" || u.scheme == "http" else {
            throw CairnError(.unauthenticated, "the identity provider URL '\(text.prefix(200))' is not valid")
        }
        return u
    }

    private static func origin(_ text: String) throws -> String {
        let u = try url(text)
        return "\(u.scheme ?? "")://\(u.host ?? ""):\(u.port ?? (u.scheme == "https" ? 443 : 80))"
    }

    private static func random() -> String {
        base64URL(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
