import CairnCore
import CairnGovernance
import CairnStore
import Crypto
import Foundation
import MCP

/// One MCP session: a run of one agent on one project. Every tool call is the agent's own call
/// through the Gateway (authenticated, authorized, validated, audited), reads and writes the
/// run's branch, and is recorded in the run's history with what it read and committed.
public actor AgentSession {
    let gateway: Gateway
    /// The agent, re-authenticated at every call (`Gateway.refresh`): a key revoked or a grant
    /// taken away during the session binds the next call, on every transport.
    var caller: Caller
    public private(set) var run: AgentRun

    /// Who bounds the agent: the person it acts for and, for a child run, the agents of the runs
    /// above it. Every call must also be within each one's authority on the target, so an agent
    /// never does more than the people (and parent runs) behind it.
    var bounds: [(caller: Caller, why: String)] = []

    init(gateway: Gateway, caller: Caller, run: AgentRun) {
        self.gateway = gateway
        self.caller = caller
        self.run = run
        if let subject = run.onBehalfOf, subject.hasPrefix("user:") {
            bounds.append((Caller(principal: Principal(subject: subject, kind: .user, credential: "launcher of \(run.agent)"), organization: caller.organization),
                           "\(subject), for whom this agent acts"))
        }
    }

    /// Adds the agents of the parent runs as bounds (a child run never gains authority).
    func inheritBounds() async throws {
        var parent = run.parent
        while let id = parent {
            let up = try await gateway.agentRun(caller, project: run.project, id: id)
            guard let agent = try await gateway.agentCaller(for: up, organization: caller.organization) else {
                throw CairnError(.permissionDenied, "the agent of parent run \(id) no longer has a valid key")
            }
            bounds.append((agent, "\(up.agent), whose run \(id) this run is a child of"))
            parent = up.parent
        }
    }

    /// Checks that every bound may do this too (on the run's target).
    func bound(_ authority: Authority, _ path: String? = nil) async throws {
        for (bound, why) in bounds {
            do {
                _ = try await gateway.authorize(bound, authority, AccessTarget(project: run.project, branch: run.target, path: path), action: "agent.bound.check")
            } catch let e as CairnError where e.code == .permissionDenied || e.code == .projectNotFound {
                // (A bound with no access to the project at all is told it does not exist.)
                throw CairnError(
                    .permissionDenied, "\(why), may not \(authority.rawValue) \(path ?? "in \(run.project)"): an agent never does more than those behind it")
            }
        }
    }

    /// Starts a run for `caller` (the agent) on `project`, forked from `target`.
    public static func start(gateway: Gateway, caller: Caller, project: String, target: String = "main", onBehalfOf: String? = nil, parent: String? = nil)
        async throws -> AgentSession
    {
        let run = try await gateway.startAgentRun(caller, project: project, target: target, onBehalfOf: onBehalfOf, parent: parent)
        let session = AgentSession(gateway: gateway, caller: caller, run: run)
        try await session.inheritBounds()
        return session
    }

    /// An MCP server offering the eight tools of this session.
    public func server() async -> Server {
        let server = Server(
            name: "cairn", version: "0.1.0",
            instructions: "Run \(run.id). You act on the world model of project '\(run.project)' through eight tools. Your changes go to your own branch "
                + "'\(run.branch)' (forked from '\(run.target)'); when the session ends they merge into '\(run.target)', or wait as a merge "
                + "request for a person's approval. Give a reason with every change.",
            capabilities: .init(resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: AgentTools.all) }
        let uri = "cairn://projects/\(run.project)/ontology"
        await server.withMethodHandler(ListResources.self) { _ in
            .init(resources: [
                Resource(
                    name: "ontology", uri: uri, title: "The project's ontology",
                    description: "Entity types, their properties and links, and the rules every write is checked against", mimeType: "application/json")
            ])
        }
        await server.withMethodHandler(ReadResource.self) { [self] params in
            guard params.uri == uri else { throw MCPError.invalidParams("unknown resource \(params.uri); the one resource is \(uri)") }
            return .init(contents: [.text(try await self.ontologyText(), uri: uri, mimeType: "application/json")])
        }
        await server.withMethodHandler(CallTool.self) { [self] params in await self.call(params.name, params.arguments ?? [:]) }
        return server
    }

    /// The ontology on the run's branch (`{}` when the project has none), as the agent may read it.
    func ontologyText() async throws -> String {
        do {
            let (_, _, bytes) = try await gateway.readBytes(caller, project: run.project, path: ".cairn/ontology.json", at: run.branch)
            return String(decoding: bytes, as: UTF8.self)
        } catch let e as CairnError where e.code == .notFound {
            return "{}"
        } catch let e as CairnError {
            throw MCPError.invalidRequest("\(e.code.rawValue): \(e.message)")
        }
    }

    /// Ends the run (merging its branch, or opening a merge request); later calls are refused.
    public func finish() async -> AgentRun {
        do {
            run = try await gateway.finishAgentRun(caller, run: run)
        } catch {
            run.status = .failed
            run.message = "\(error)"
        }
        return run
    }

    struct Outcome {
        var text: String
        var reads: [RunInput] = []
        var readAt: String?
        var commits: [String] = []
        var summary: String
        /// What identifies the answer across executions (see `AgentRun.Call.result`); the text by default.
        var stable: String?

        var digest: String { Self.sha256(stable ?? text) }

        static func sha256(_ text: String) -> String { SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined() }
    }

    func call(_ name: String, _ arguments: [String: Value]) async -> CallTool.Result {
        let started = DispatchTime.now().uptimeNanoseconds
        var outcome: Outcome?
        var failure: CairnError?
        if run.status != .running {
            failure = CairnError(.conflict, "this run has ended (\(run.status.rawValue)); start a new session")
        } else {
            do {
                caller = try await gateway.refresh(caller)
                outcome = try await perform(name, arguments)
            } catch let e as CairnError {
                failure = e.clientFacing
            } catch {
                failure = CairnError(.invalidArgument, "\(error)")
            }
        }
        let argumentsJSON = (try? JSONEncoder().encode(arguments)).flatMap { JSONValue.parse(Array($0)) } ?? .null
        let record = AgentRun.Call(
            seq: run.calls.count + 1, tool: name, arguments: argumentsJSON,
            decision: failure?.code == .permissionDenied || failure?.code == .unauthenticated ? "denied" : "allowed",
            reads: outcome?.reads ?? [], readAt: outcome?.readAt, commits: outcome?.commits ?? [],
            summary: outcome?.summary ?? "error", result: outcome?.digest, error: failure.map { "\($0.code.rawValue): \($0.message)" },
            milliseconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6, at: Clock.rfc3339(Clock.nowMillis()))
        if let updated = try? await gateway.recordAgentCall(caller, run: run, record) { run = updated }
        if let failure {
            return .init(content: [.text(text: Self.describe(failure), annotations: nil, _meta: nil)], isError: true)
        }
        return .init(content: [.text(text: outcome?.text ?? "", annotations: nil, _meta: nil)], isError: false)
    }

    /// A tool error as the agent reads it: the code and message, then, for a change the ontology
    /// refused, every violation (rule, path, JSON pointer, message) as JSON, so the agent can
    /// correct exactly what is wrong.
    static func describe(_ failure: CairnError) -> String {
        var text = "\(failure.code.rawValue): \(failure.message)"
        if !failure.violations.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            if let data = try? encoder.encode(["violations": failure.violations]) {
                text += "\n" + String(decoding: data, as: UTF8.self)
            }
        }
        return text
    }

    func perform(_ name: String, _ a: [String: Value]) async throws -> Outcome {
        func string(_ key: String) throws -> String {
            guard let s = a[key]?.stringValue else { throw CairnError(.invalidArgument, "\(name) needs '\(key)' (a string)") }
            return s
        }
        func changer() throws -> Caller { caller(reason: try string("reason")) }
        let project = run.project, branch = run.branch
        switch name {
        case "Read":
            let path = try string("path")
            try await bound(.read, path)
            let lines = try await gateway.read(caller, project: project, path: path, at: branch, offset: a["offset"]?.intValue ?? 1, limit: a["limit"]?.intValue ?? 2000)
            var text = lines.lines.enumerated().map { String(format: "%6d\t", lines.startLine + $0.offset) + $0.element }.joined(separator: "\n")
            if lines.hasMore {
                text += "\n(lines \(lines.startLine)–\(lines.startLine + lines.lines.count - 1) of \(lines.totalLines); read on with offset \(lines.startLine + lines.lines.count))"
            }
            return Outcome(text: text, reads: [RunInput(path: path, blob: lines.blob.hex)], readAt: lines.commit.hex, summary: "read \(path)")
        case "Write":
            let path = try string("path")
            try await bound(.write, path)
            let out = try await gateway.write(try changer(), project: project, path: path, content: Array(try string("content").utf8), branch: branch)
            return Outcome(text: Self.describe(out), commits: out.commit.map { [$0.hex] } ?? [], summary: "wrote \(path)", stable: await state(out))
        case "Edit":
            let path = try string("path")
            try await bound(.write, path)
            let out = try await gateway.edit(
                try changer(), project: project, path: path, old: try string("old"), new: try string("new"), replaceAll: a["all"]?.boolValue ?? false, branch: branch)
            return Outcome(text: Self.describe(out), commits: out.commit.map { [$0.hex] } ?? [], summary: "edited \(path)", stable: await state(out))
        case "Delete":
            let path = try string("path")
            try await bound(.delete, Glob.hasWildcards(path) ? nil : path)
            let out = try await gateway.delete(try changer(), project: project, pathOrGlob: path, branch: branch)
            return Outcome(text: Self.describe(out), commits: out.commit.map { [$0.hex] } ?? [], summary: "deleted \(out.changed.count) file(s) at \(path)", stable: await state(out))
        case "Glob":
            let pattern = try string("pattern")
            try await bound(.read)
            let page = try await gateway.glob(caller, project: project, pattern: pattern, at: branch, limit: a["limit"]?.intValue ?? 1000, after: a["cursor"]?.stringValue)
            let text = page.paths.joined(separator: "\n") + (page.next.map { "\n(more: pass cursor \"\($0)\")" } ?? "")
            return Outcome(text: text.isEmpty ? "(no match)" : text, summary: "\(page.paths.count) path(s) for \(pattern)")
        case "Grep":
            try await bound(.read)
            let mode: GrepMode = switch a["mode"]?.stringValue ?? "files" {
            case "lines": .content
            case "count": .count
            default: .files
            }
            let query = GrepQuery(
                pattern: try string("pattern"), glob: a["glob"]?.stringValue, mode: mode, caseInsensitive: a["caseInsensitive"]?.boolValue ?? false,
                contextLines: a["context"]?.intValue ?? 0, headLimit: a["limit"]?.intValue)
            let result = try await gateway.grep(caller, project: project, query: query, at: branch)
            var lines: [String]
            switch mode {
            case .files: lines = result.files
            case .content: lines = result.lines.map { "\($0.path):\($0.line): \($0.text)" }
            case .count: lines = result.counts.map { "\($0.path): \($0.count)" }
            }
            if result.truncated { lines.append("(more matches: raise limit or narrow the glob)") }
            return Outcome(text: lines.isEmpty ? "(no match)" : lines.joined(separator: "\n"), readAt: result.commit.hex, summary: "grep \(query.pattern)")
        case "Run":
            try await bound(.run)
            var request = try Self.decode(RunRequest.self, a, name)
            request.ref = branch
            request.message = a["reason"]?.stringValue
            let result = try await gateway.run(caller(reason: request.message), project: project, request)
            return Outcome(
                text: try Self.json(result), reads: result.inputs, readAt: result.commit, commits: result.output?.commit.map { [$0.hex] } ?? [],
                summary: "run \(request.function)", stable: result.result.text)
        case "Solve":
            try await bound(.solve)
            var request = try Self.decode(SolveRequest.self, a, name)
            request.ref = branch
            request.message = a["reason"]?.stringValue
            let result = try await gateway.solve(caller(reason: request.message), project: project, request)
            return Outcome(
                text: try Self.json(result), reads: result.inputs, readAt: result.commit, commits: result.output?.commit.map { [$0.hex] } ?? [],
                summary: "solve \(request.kind): \(result.result.status.rawValue)",
                stable: "\(result.result.status.rawValue) \(result.result.objective.map { String(format: "%.6g", $0) } ?? "-")")
        default:
            throw CairnError(.invalidArgument, "unknown tool '\(name)': the tools are \(AgentTools.names.joined(separator: ", "))")
        }
    }

    /// The agent with the why of one call.
    func caller(reason: String?) -> Caller {
        var c = caller
        c.reason = reason
        return c
    }

    /// A change as its effect: each changed path with the blob it has now (content-addressed,
    /// so the same on replay), or `deleted`.
    func state(_ out: CommitOutcome) async -> String {
        var parts: [String] = []
        for path in out.changed.sorted() {
            let blob = try? await gateway.readBytes(caller, project: run.project, path: path, at: out.head.hex).1.hex
            parts.append("\(path)=\(blob ?? "deleted")")
        }
        return parts.joined(separator: "\n")
    }

    static func describe(_ out: CommitOutcome) -> String {
        let commit = out.commit.map { "committed \($0.hex.prefix(12))" } ?? "nothing changed"
        return "\(commit) on \(out.branch): \(out.changed.joined(separator: ", "))"
    }

    static func decode<T: Decodable>(_ type: T.Type, _ arguments: [String: Value], _ tool: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: JSONEncoder().encode(arguments))
        } catch {
            throw CairnError(.invalidArgument, "\(tool)'s arguments do not fit its schema: \(error)")
        }
    }

    static func json(_ value: some Encodable) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}
