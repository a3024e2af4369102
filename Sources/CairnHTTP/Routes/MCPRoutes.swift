import CairnCore
import CairnEngine
import CairnGovernance
import CairnMCP
import CairnStore
import Foundation
import HTTPTypes
import Hummingbird
import MCP
import NIOCore

/// The agent surface over streamable HTTP at `/v1/mcp?project=P[&org=O][&branch=B][&onBehalfOf=S][&parent=RUN]`:
/// bearer authentication on every request, one run per MCP session. A session's requests must
/// come from the agent that opened it; closing the session (DELETE) ends the run.
actor MCPSessions {
    struct Entry {
        let subject: String
        let organization: String
        let session: RunSession
        let server: Server
        let transport: StatefulHTTPServerTransport
        /// A workflow's agent step on the workflow run's own session (opened with a run token):
        /// closing or losing it never ends that run; the workflow does.
        var borrowed = false
    }

    private var entries: [String: Entry] = [:]
    /// Open sessions now, for `/metrics`.
    var count: Int { entries.count }
    private var lastSeen: [String: ContinuousClock.Instant] = [:]
    private var sweeping = false

    func entry(_ id: String) -> Entry? {
        if entries[id] != nil { lastSeen[id] = .now }
        return entries[id]
    }

    func add(_ id: String, _ entry: Entry) {
        entries[id] = entry
        lastSeen[id] = .now
    }

    /// Takes out every session (the server is stopping).
    func removeAll() -> [Entry] {
        let all = Array(entries.values)
        entries.removeAll()
        lastSeen.removeAll()
        return all
    }

    func remove(_ id: String) -> Entry? {
        lastSeen[id] = nil
        return entries.removeValue(forKey: id)
    }

    /// Takes out the sessions no request has touched for `idle` seconds.
    func expire(idle seconds: Double) -> [Entry] {
        let cutoff = ContinuousClock.now - .milliseconds(Int64(seconds * 1000))
        let stale = lastSeen.filter { $0.value < cutoff }.map(\.key)
        return stale.compactMap { remove($0) }
    }

    /// Starts, once, the sweep that ends idle sessions' runs (as if their clients had closed them).
    func startSweeping(idle seconds: Double, engine: Engine) {
        guard !sweeping else { return }
        sweeping = true
        Task { [weak self] in
            while let self, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int64(min(60, max(0.05, seconds / 4)) * 1000)))
                // A session no request touched for so long has lost its client: its run ends
                // by the recovery policy, as when its transport is gone.
                for ended in await self.expire(idle: seconds) {
                    await ended.server.stop()
                    if ended.borrowed { continue }
                    _ = await engine.abandon(ended.session, why: "no request for \(Int(seconds)) s: the session's client is gone")
                }
            }
        }
    }
}

/// Gives the transport the session id Cairn chose, so the run and the MCP session share it.
private struct FixedSessionID: SessionIDGenerator {
    let id: String
    func generateSessionID() -> String { id }
}

extension Routes {
    func registerMCP(on router: Router<Context>, sessions: MCPSessions) {
        for method in [HTTPRequest.Method.post, .get, .delete] {
            router.on("/v1/mcp", method: method) { req, ctx in
                try await handleMCP(req, ctx, sessions: sessions)
            }
        }
    }

    func handleMCP(_ req: Request, _ ctx: Context, sessions: MCPSessions) async throws -> Response {
        let query = req.uri.queryParameters
        let orgName = query["org"].map(String.init) ?? "default"
        // A workflow's agent step presents its run token: it opens that run's session only.
        var ticket: (RunSession, OrganizationRecord)?
        if let header = req.headers[.authorization], header.lowercased().hasPrefix("bearer cairn_run_") {
            guard let found = workflows.session(forRunToken: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)),
                found.1.name == orgName
            else { throw Gateway.unauthenticated }
            ticket = found
        }
        let caller: Caller
        if let (session, org) = ticket {
            caller = Caller(principal: await session.principal, organization: org)
        } else {
            caller = try await gateway.authenticate(
                organization: orgName,
                authorization: req.headers[.authorization],
                client: client(req, ctx)
            )
        }
        ctx.record.principal = caller.principal.subject
        var headers: [String: String] = [:]
        for field in req.headers { headers[field.name.canonicalName] = field.value }
        var body = try await req.body.collect(upTo: config.maxBodyBytes)
        let data = body.readBytes(length: body.readableBytes).map { Data($0) }
        let request = MCP.HTTPRequest(
            method: req.method.rawValue,
            headers: headers,
            body: data.flatMap { $0.isEmpty ? nil : $0 },
            path: req.uri.path
        )

        if let id = request.header(HTTPHeaderName.sessionID) {
            // Another principal's session answers exactly as one that does not exist, so no
            // caller can learn which session ids are live.
            guard let entry = await sessions.entry(id), entry.subject == caller.principal.subject, entry.organization == orgName else {
                throw CairnError(.notFound, "no MCP session '\(id)' of yours: it ended or never began")
            }
            guard entry.borrowed == (ticket != nil), ticket.map({ $0.0 === entry.session }) ?? true else {
                throw CairnError(.notFound, "no MCP session '\(id)' of yours: it ended or never began")
            }
            let response = await entry.transport.handleRequest(request)
            if req.method == .delete, response.statusCode == 200, let ended = await sessions.remove(id) {
                await ended.server.stop()
                if !ended.borrowed { _ = await engine.end(ended.session) }
            }
            return Self.response(response)
        }
        guard req.method == .post, let data, Self.isInitialize(data) else {
            throw CairnError(
                .invalidArgument,
                "an MCP session starts with an initialize request (POST); later requests carry \(HTTPHeaderName.sessionID)"
            )
        }
        if let (session, _) = ticket {
            // The agent step's own session: the workflow run's, under a session id of its own.
            let id = UUID().uuidString.lowercased()
            let transport = StatefulHTTPServerTransport(sessionIDGenerator: FixedSessionID(id: id))
            let server = await MCPSession.server(for: session)
            try await server.start(transport: transport)
            var entry = MCPSessions.Entry(
                subject: caller.principal.subject,
                organization: orgName,
                session: session,
                server: server,
                transport: transport
            )
            entry.borrowed = true
            await sessions.add(id, entry)
            await sessions.startSweeping(idle: config.mcpIdleSeconds, engine: engine)
            return Self.response(await transport.handleRequest(request))
        }
        guard let project = query["project"].map(String.init) else {
            throw CairnError(.invalidArgument, "which project? add ?project=NAME to the MCP URL")
        }
        let session = try await engine.start(
            caller,
            project: project,
            target: query["branch"].map(String.init) ?? "main",
            onBehalfOf: query["onBehalfOf"].map(String.init) ?? caller.principal.onBehalfOf,
            parent: query["parent"].map(String.init)
        )
        let id = await session.run.id
        let transport = StatefulHTTPServerTransport(sessionIDGenerator: FixedSessionID(id: id))
        let server = await MCPSession.server(for: session)
        try await server.start(transport: transport)
        await sessions.add(
            id,
            .init(subject: caller.principal.subject, organization: orgName, session: session, server: server, transport: transport)
        )
        await sessions.startSweeping(idle: config.mcpIdleSeconds, engine: engine)
        return Self.response(await transport.handleRequest(request))
    }

    /// Whether a JSON-RPC message opens a session.
    static func isInitialize(_ data: Data) -> Bool {
        (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["method"] as? String == "initialize"
    }

    static func response(_ r: MCP.HTTPResponse) -> Response {
        var headers = HTTPFields()
        for (name, value) in r.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        let status = HTTPResponse.Status(code: r.statusCode)
        switch r {
        case .stream(let stream, _):
            return Response(
                status: status,
                headers: headers,
                body: ResponseBody { writer in
                    for try await chunk in stream { try await writer.write(ByteBuffer(bytes: chunk)) }
                    try await writer.finish(nil)
                }
            )
        default:
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: r.bodyData ?? Data())))
        }
    }
}
