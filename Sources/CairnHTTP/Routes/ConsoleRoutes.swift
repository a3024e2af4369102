import CairnCore
import CairnGovernance
import CairnStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web console at `/`: its pages and modules (written in this project, served as written from
/// the binary: see ConsoleAssets.swift), Leaflet from Debian's `libjs-leaflet`, and sign-in. The
/// console is a client of the API: everything it shows or changes is an ordinary API call through
/// the Gateway, made with the session cookie, so it can do nothing the person's grants do not allow.
extension Routes {
    /// Nothing from another origin, nothing inline: the deployment may be air-gapped.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    static let cspHeader = HTTPField.Name("Content-Security-Policy")!
    static let setCookie = HTTPField.Name("Set-Cookie")!
    /// Where Debian's libjs-leaflet puts Leaflet (installed by the set-up, never copied in here).
    static let leafletFolder = "/usr/share/javascript/leaflet"

    func registerConsole(on router: Router<Context>) {
        router.get("/") { _, _ in
            Response(status: .seeOther, headers: [.location: "/console/"])
        }
        // `/console/` and `/console` are one route to the router: the page.
        router.get("/console") { _, _ in
            guard let page = ConsoleAssets.files["index.html"] else { throw HTTPError(.notFound) }
            return Self.asset(page.type, Array(page.body.utf8))
        }
        router.get("/console/**") { req, _ in
            let path = String(req.uri.path.dropFirst("/console/".count))
            if path.hasPrefix("vendor/leaflet/") { return try Self.leaflet(String(path.dropFirst("vendor/leaflet/".count))) }
            guard let asset = ConsoleAssets.files[path.isEmpty ? "index.html" : path] else { throw HTTPError(.notFound) }
            return Self.asset(asset.type, Array(asset.body.utf8))
        }

        // Sign-in with an API key: the key is checked as any request's would be, then stands
        // behind a cookie the page's scripts cannot read.
        router.post("/console/session") { req, ctx in
            guard req.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
                // A cross-site form cannot send JSON without asking first (CORS): no login CSRF.
                throw CairnError(.invalidArgument, "sign in with a JSON body {\"organization\", \"key\"}")
            }
            struct SignIn: Decodable {
                let organization: String
                let key: String
            }
            let body = try await JSON.decode(SignIn.self, from: req, limit: 16_384)
            let authorization = "Bearer " + body.key
            let caller = try await gateway.authenticate(
                organization: body.organization,
                authorization: authorization,
                client: client(req, ctx)
            )
            let (id, session) = consoleSessions.open(
                organization: body.organization,
                authorization: authorization,
                subject: caller.principal.subject
            )
            var response = JSON.response(json: Self.describe(session))
            response.headers[Self.setCookie] = cookie(id, maxAge: Int(consoleSessions.lifetime))
            return response
        }
        // Sign-in through the organization's identity provider: authorization code with PKCE.
        router.get("/console/oidc/start") { req, ctx in
            let organization = Query(request: req).string("organization") ?? "default"
            guard let settings = await gateway.signInProvider(organization: organization) else {
                throw CairnError(.notFound, "sign-in through an identity provider is not set up for this organization")
            }
            let redirect = try consoleBase(req) + "/console/oidc/callback"
            let url = try await consoleOIDC.start(organization: organization, settings: settings, redirect: redirect)
            return Response(status: .seeOther, headers: [.location: url, .cacheControl: "no-store"])
        }
        router.get("/console/oidc/callback") { req, ctx in
            let q = Query(request: req)
            guard let state = q.string("state"), let code = q.string("code") else {
                throw CairnError(.unauthenticated, "the identity provider did not sign you in: \(q.string("error") ?? "no code")")
            }
            let (organization, token) = try await consoleOIDC.finish(state: state, code: code)
            let authorization = "Bearer " + token
            let caller = try await gateway.authenticate(organization: organization, authorization: authorization, client: client(req, ctx))
            let (id, _) = consoleSessions.open(organization: organization, authorization: authorization, subject: caller.principal.subject)
            var response = Response(status: .seeOther, headers: [.location: "/console/", .cacheControl: "no-store"])
            response.headers[Self.setCookie] = cookie(id, maxAge: Int(consoleSessions.lifetime))
            return response
        }
        router.get("/console/session") { req, _ in
            guard let session = consoleSessions.session(ConsoleSessions.id(fromCookieHeader: req.headers[.cookie])) else {
                throw Gateway.unauthenticated
            }
            return JSON.response(json: Self.describe(session))
        }
        router.delete("/console/session") { req, _ in
            let id = ConsoleSessions.id(fromCookieHeader: req.headers[.cookie])
            guard let id, let session = consoleSessions.session(id) else { throw Gateway.unauthenticated }
            guard ConsoleSessions.csrfMatches(req.headers[Self.csrfHeader], session.csrf) else {
                throw CairnError(.permissionDenied, "signing out needs the session's CSRF token", details: ["reason": "csrf"])
            }
            consoleSessions.close(id)
            var response = Response(status: .noContent)
            response.headers[Self.setCookie] = cookie("", maxAge: 0)
            return response
        }
    }

    /// The session as the page may know it: who, where, until when, and its CSRF token (never the key).
    static func describe(_ s: ConsoleSessions.Session) -> JSONValue {
        .object([
            "subject": .string(s.subject),
            "organization": .string(s.organization),
            "csrf": .string(s.csrf),
            "expires": .string(Clock.rfc3339(Millis(s.expires.timeIntervalSince1970 * 1000))),
        ])
    }

    /// This server's own origin as the browser reached it (for the provider's redirect back).
    func consoleBase(_ req: Request) throws -> String {
        let host = req.head.authority ?? "\(config.host):\(config.port)"
        return (config.tlsCertificate == nil ? "http" : "https") + "://" + host
    }

    func cookie(_ value: String, maxAge: Int) -> String {
        "\(ConsoleSessions.cookie)=\(value); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)"
            + (config.tlsCertificate == nil ? "" : "; Secure")
    }

    static func asset(_ type: String, _ bytes: [UInt8]) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: type, cspHeader: contentSecurityPolicy, .cacheControl: "no-cache",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    /// A file of Debian's Leaflet: names of letters, digits, dots, dashes and one folder level only.
    static func leaflet(_ name: String) throws -> Response {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
            parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && $0.allSatisfy { $0.isLetter || $0.isNumber || "._-".contains($0) } })
        else { throw HTTPError(.notFound) }
        guard let data = FileManager.default.contents(atPath: leafletFolder + "/" + name) else { throw HTTPError(.notFound) }
        let type =
            name.hasSuffix(".js")
            ? "text/javascript" : name.hasSuffix(".css") ? "text/css" : name.hasSuffix(".png") ? "image/png" : "application/octet-stream"
        return asset(type, Array(data))
    }
}
