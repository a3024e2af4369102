import CairnCore
import CairnEngine
import CairnGovernance
import CairnStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Prometheus

/// Every route of `/v1`, grouped by what it serves (files, history, access, audit, feed).
struct Routes: Sendable {
    let gateway: Gateway
    let engine: Engine
    let workflows: Workflows
    let scheduler: WorkflowScheduler
    let config: ServerConfig
    let registry: PrometheusCollectorRegistry
    /// The open MCP sessions, each one agent run.
    let mcpSessions: MCPSessions
    /// The web console's sign-ins (cookie sessions).
    let consoleSessions: ConsoleSessions
    /// Sign-ins through an identity provider in progress (authorization code with PKCE).
    let consoleOIDC = ConsoleOIDC()

    typealias Context = CairnRequestContext
    static let reasonHeader = HTTPField.Name("X-Cairn-Reason")!
    static let csrfHeader = HTTPField.Name(ConsoleSessions.csrfHeader)!

    func register(on router: Router<Context>) {
        router.get("/healthz") { _, _ in JSON.response(["status": "ok"]) }
        // Ready: the store answers and its schema is the one this server needs. A load balancer
        // sends traffic only to a server that is ready.
        router.get("/readyz") { _, _ in
            do {
                try await gateway.checkReady()
                return JSON.response(["status": "ready"])
            } catch let e as CairnError {
                return JSON.response(["status": "not_ready", "reason": e.code.rawValue, "message": e.message], status: .serviceUnavailable)
            }
        }
        let operatorMetrics = OperatorMetrics(registry: registry)
        router.get("/metrics") { _, _ in
            operatorMetrics.refresh(gateway: gateway, sessions: await mcpSessions.count)
            var buffer: [UInt8] = []
            registry.emitToBuffer(&buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
        registerConsole(on: router)
        router.get("/v1/docs") { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8",
                    .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: APIDocsPage.bytes))
            )
        }
        router.get("/v1/openapi.json") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes))
            )
        }
        // Every route of an organization is behind one authentication: the route gets the caller.
        let org = router.group("/v1/orgs/:org").add(middleware: Authentication(routes: self))
        org.get("") { req, ctx in
            let caller = try ctx.caller
            return JSON.response(OrgInfo(name: caller.organization.name, created: Clock.rfc3339(caller.organization.createdMillis)))
        }
        org.get("/whoami") { req, ctx in
            let c = try ctx.caller
            return JSON.response(
                WhoAmI(
                    subject: c.principal.subject,
                    kind: c.principal.kind.rawValue,
                    groups: c.principal.groups,
                    credential: c.principal.credential,
                    organization: c.organization.name,
                    onBehalfOf: c.principal.onBehalfOf
                )
            )
        }
        registerFiles(on: org)
        registerHistory(on: org)
        registerMerges(on: org)
        registerReviews(on: org)
        registerOntology(on: org)
        registerRun(on: org)
        registerSolve(on: org)
        registerAgentRuns(on: org)
        registerWorkflows(on: org)
        registerFeatures(on: org)
        registerMCP(on: router, sessions: mcpSessions)
        registerAccess(on: org)
        registerAudit(on: org)
    }

    /// Authenticates the request for the organization its URL names. The reason comes from the
    /// `X-Cairn-Reason` header unless the body gives a `message`.
    func authenticate(_ request: Request, _ context: Context) async throws -> Caller {
        let org = try context.parameters.require("org")
        var authorization = request.headers[.authorization]
        var session: ConsoleSessions.Session?
        if authorization == nil, let id = ConsoleSessions.id(fromCookieHeader: request.headers[.cookie]) {
            // The console's cookie stands for the credential it signed in with (an unknown or
            // expired one fails below exactly as a missing credential does).
            session = consoleSessions.session(id).flatMap { $0.organization == org ? $0 : nil }
            authorization = session?.authorization
        }
        var caller = try await gateway.authenticate(
            organization: org,
            authorization: authorization,
            client: client(request, context)
        )
        // A request the cookie alone could make from another site changes nothing: whatever is not
        // a read needs the session's CSRF token as well.
        if let session, request.method != .get, request.method != .head,
            !ConsoleSessions.csrfMatches(request.headers[Self.csrfHeader], session.csrf)
        {
            throw CairnError(
                .permissionDenied,
                "this request came with the console's cookie but without its CSRF token (\(ConsoleSessions.csrfHeader)); reload the page",
                details: ["reason": "csrf"]
            )
        }
        context.record.principal = caller.principal.subject
        caller.reason = request.headers[Self.reasonHeader]
        return caller
    }

    /// The caller's network address, for limits applied before authentication. Behind a
    /// reverse proxy listed in `trustedProxies`, the address that proxy saw: the last hop of
    /// `X-Forwarded-For` that is not itself a trusted proxy (earlier hops are the client's to forge).
    func client(_ request: Request, _ context: Context) -> String? {
        guard let peer = context.remoteAddress?.ipAddress else { return nil }
        let trusted = Set(config.trustedProxies)
        guard trusted.contains(peer), let forwarded = request.headers[Self.forwardedFor] else { return peer }
        let hops = forwarded.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return hops.last { !trusted.contains($0) }.map { String($0.prefix(64)) } ?? peer
    }

    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    func body<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        try await JSON.decode(T.self, from: request, limit: config.maxBodyBytes)
    }

    /// The rest of the path after a `**` route (`/v1/orgs/O/projects/P/WORD/**`), percent-decoded.
    ///
    /// Read from the raw request path, not the router's parameters, which drop empty segments:
    /// `files//tmp/x`, `files/a//x` and `files/x/` must be refused, not written as `tmp/x`,
    /// `a/x` and `x`. Text that does not decode to valid UTF-8 (`%FF`, overlong forms such as
    /// `%C0%AE`, a stray `%`) is refused too, never stored under its literal `%..` name.
    func tail(_ request: Request, _ context: Context, noun: String) throws -> String {
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: false)
        let raw = segments.count > 7 ? segments[7...].joined(separator: "/") : ""
        guard !raw.isEmpty else { throw CairnError(.invalidArgument, "the URL names no \(noun)") }
        guard let decoded = PercentDecoding.decode(raw) else {
            throw CairnError(.invalidPath, "the \(noun) in the URL is not valid percent-encoded UTF-8")
        }
        if noun == "file path" { _ = try FilePath(decoded) }
        return decoded
    }

    /// Runs a read that can take long under the configured timeout.
    func timed<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let seconds = config.requestTimeoutSeconds
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw CairnError(.timeout, "the operation took longer than \(seconds) s; narrow it (a glob, a path, a smaller limit)")
            }
            return value
        }
    }
}

struct OrgInfo: Codable {
    let name: String
    let created: String
}

struct WhoAmI: Codable {
    let subject: String
    let kind: String
    let groups: [String]
    let credential: String
    let organization: String
    let onBehalfOf: String?
}

struct Empty: Codable {}

extension PrometheusCollectorRegistry {
    func emitToBuffer(_ buffer: inout [UInt8]) { emit(into: &buffer) }
}

/// Authenticates each request to an organization's routes once, before the route runs, and
/// hands the route its caller in the context: no route can forget to, or do it twice.
struct Authentication: RouterMiddleware {
    let routes: Routes

    func handle(
        _ request: Request,
        context: CairnRequestContext,
        next: (Request, CairnRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.authenticated = try await routes.authenticate(request, context)
        return try await next(request, context)
    }
}
