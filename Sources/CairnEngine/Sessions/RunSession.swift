import CairnCore
import CairnGovernance
import CairnStore
import Crypto
import Foundation

/// One live run: an agent at work on one project, through the eight primitives. Every call is
/// the agent's own call through the Gateway (authenticated again, authorized, validated,
/// audited), reads and writes the run's branch, and is recorded in the run's history with what
/// it read and committed, in the same transaction as its effect. Surfaces (MCP over stdio or
/// HTTP, later workflows) only frame calls and answers; the run's policy lives here.
public actor RunSession {
    let engine: Engine
    var gateway: Gateway { engine.gateway }
    /// The agent, re-authenticated at every call (`Gateway.refresh`): a key revoked or a grant
    /// taken away during the session binds the next call, on every transport.
    var caller: Caller
    public private(set) var run: AgentRun
    /// Who acts in this run (as of its last call).
    public var principal: Principal { caller.principal }
    /// The name of the run's lease (see `Engine.start`).
    nonisolated let lease: String
    nonisolated let runID: String
    /// The run's end is recorded (or was another server's to record): its lease may go.
    private(set) var settled = false

    init(engine: Engine, caller: Caller, run: AgentRun, lease: String = "") {
        self.engine = engine
        self.caller = caller
        self.run = run
        self.lease = lease
        self.runID = run.id
    }

    // MARK: Bounds

    /// Who bounds the agent now: the person it acts for and, for a child run, the agents of the
    /// runs above it, each as their key stands at this moment. Every call must also be within
    /// each one's authority on the target, so an agent never does more than those behind it.
    func bounds() async throws -> [(caller: Caller, why: String)] {
        var out: [(Caller, String)] = []
        if let subject = run.onBehalfOf, subject.hasPrefix("user:") {
            out.append(
                (
                    Caller(
                        principal: Principal(subject: subject, kind: .user, credential: "launcher of \(run.agent)"),
                        organization: caller.organization
                    ),
                    "\(subject), for whom this agent acts"
                )
            )
        }
        var parent = run.parent
        while let id = parent {
            let up = try await gateway.agentRunHeader(caller.organization, project: run.project, id: id)
            guard let agent = try await gateway.agentCaller(for: up, organization: caller.organization) else {
                throw CairnError(.permissionDenied, "the agent of parent run \(id) no longer has a valid key")
            }
            out.append((agent, "\(up.agent), whose run \(id) this run is a child of"))
            parent = up.parent
        }
        return out
    }

    /// Checks that every bound may do this too (on the run's target).
    func bound(_ authority: Authority, _ path: String? = nil, within bounds: [(caller: Caller, why: String)]) async throws {
        for (bound, why) in bounds {
            do {
                _ = try await gateway.authorize(
                    bound,
                    authority,
                    AccessTarget(project: run.project, branch: run.target, path: path),
                    action: "agent.bound.check"
                )
            } catch let e as CairnError where e.code == .permissionDenied || e.code == .projectNotFound {
                // (A bound with no access to the project at all is told it does not exist.)
                throw CairnError(
                    .permissionDenied,
                    "\(why), may not \(authority.rawValue) \(path ?? "in \(run.project)"): an agent never does more than those behind it",
                    details: ["authority": authority.rawValue, "target": path ?? run.project]
                )
            }
        }
    }

    // MARK: Calls

    /// A call's answer as a surface renders it.
    public struct Answer: Sendable {
        public let text: String
        /// The error, as the HTTP API would give it (code, message, details, violations).
        public let error: CairnError?
        /// The answer as data, for a workflow's later steps: a file's content (as JSON when it
        /// is), a change's commit and paths, a glob's paths, a computation's result.
        public var value: JSONValue? = nil
        /// The call's number in the run's record (nil: it was not recorded, so nothing was done).
        public var seq: Int? = nil
        public var isError: Bool { error != nil }
    }

    /// Makes one call and records it. The answer is returned only once its record is durable:
    /// with the call's commit, in the same transaction, when it changed something; on its own
    /// otherwise. If the record cannot be written the call fails and has changed nothing.
    public func call(_ tool: String, _ arguments: [String: JSONValue]) async -> Answer {
        let started = DispatchTime.now().uptimeNanoseconds
        let seq = run.calls.count + 1
        let argumentsJSON = JSONValue.object(arguments)
        let draft = CallDraft()
        var outcome: Outcome?
        var failure: CairnError?
        var recording: Engine.Recording?
        if !lease.isEmpty {
            do {
                try await engine.confirmLeases()
            } catch {
                engine.logger.error("a run's lease could not be confirmed", metadata: ["run": "\(run.id)", "error": "\(error)"])
                let refused = CairnError(
                    .storage,
                    "the server could not confirm it still holds this run, so the call was not made; try again"
                )
                return Answer(text: Self.describe(refused), error: refused)
            }
        }
        if run.status != .running {
            failure = CairnError(.conflict, "this run has ended (\(run.status.rawValue)); start a new session")
        } else {
            do {
                caller = try await gateway.refresh(caller)
                let made = try await engine.recording(
                    caller,
                    run: run,
                    seq: seq,
                    tool: tool,
                    arguments: argumentsJSON,
                    draft: draft,
                    started: started
                )
                recording = made
                var acting = caller
                acting.call = RunCall(run: run.id, step: seq, record: made.companion, draft: draft)
                // The arguments fit the schema the tool advertises, or nothing is done.
                if let primitive = Primitive.named(tool) {
                    try ArgumentSchema.check(argumentsJSON, against: primitive.schema, tool: tool)
                }
                outcome = try await perform(tool, arguments, as: acting, bounds: try await bounds())
            } catch let e as CairnError {
                failure = e.clientFacing
            } catch {
                failure = CairnError(.invalidArgument, "\(error)")
            }
        }
        if recording?.companion.taken != nil, let committed = recording?.rendered {
            // Committed with the change, in its transaction: durable already.
            run.calls.append(committed)
        } else {
            let record = Self.record(
                seq: seq,
                tool: tool,
                arguments: argumentsJSON,
                outcome: outcome,
                failure: failure,
                noted: draft.noted,
                started: started
            )
            do {
                try await engine.writeRecord(caller, run: run, record)
                run.calls.append(record)
            } catch {
                engine.logger.error(
                    "the record of a call could not be written",
                    metadata: ["run": "\(run.id)", "seq": "\(seq)", "error": "\(error)"]
                )
                let refused = CairnError(
                    .storage,
                    "this call could not be recorded, so it was not made and nothing changed; the server's log says why"
                )
                return Answer(text: Self.describe(refused), error: refused)
            }
        }
        engine.announce(caller, run, call: run.calls.last)
        let recorded = run.calls.last?.seq
        if let failure { return Answer(text: Self.describe(failure), error: failure, seq: recorded) }
        return Answer(text: outcome?.text ?? "", error: nil, value: outcome?.value, seq: recorded)
    }

    /// The record of a call that committed nothing (a read, a refusal, a failure).
    static func record(
        seq: Int,
        tool: String,
        arguments: JSONValue,
        outcome: Outcome?,
        failure: CairnError?,
        noted: CallDraft.Noted,
        started: UInt64
    ) -> AgentRun.Call {
        AgentRun.Call(
            seq: seq,
            tool: tool,
            arguments: arguments,
            decision: failure?.code == .permissionDenied || failure?.code == .unauthenticated ? "denied" : "allowed",
            reads: outcome?.reads ?? noted.reads,
            readAt: outcome?.readAt ?? noted.readAt,
            commits: outcome?.commits ?? [],
            summary: outcome?.summary ?? "error",
            result: outcome?.digest,
            error: failure.map { "\($0.code.rawValue): \($0.message)" },
            milliseconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6,
            at: Clock.rfc3339(Clock.nowMillis())
        )
    }

    /// A tool error as the agent reads it: the code and message, then the same structured error
    /// the HTTP API answers (`{"error":{code,message,details,violations}}`), so an agent can
    /// correct exactly what is wrong (every ontology violation's rule, path and pointer).
    public static func describe(_ failure: CairnError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(failure.envelope)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return "\(failure.code.rawValue): \(failure.message)\n\(body)"
    }

    /// Ends the run (merging its branch, or opening a merge request); later calls are refused.
    public func finish() async -> AgentRun {
        do {
            run = try await engine.finish(caller, run: run)
            settled = true
        } catch {
            run.status = .failed
            run.message = "\(error)"
        }
        return run
    }

    /// Ends the run by the recovery policy: its transport is gone, or the server is stopping.
    public func interrupt(_ why: String) async -> AgentRun {
        guard run.status == .running else {
            settled = true
            return run
        }
        do {
            run = try await engine.recover(caller.organization, run: run, why: why)
            settled = true
        } catch {
            engine.logger.error("a run could not be ended by the recovery policy", metadata: ["run": "\(run.id)", "error": "\(error)"])
        }
        return run
    }

    /// Ends the run as `interrupted` by the engine's own decision (not the recovery policy).
    func stop(_ why: String) async -> AgentRun {
        guard run.status == .running else {
            settled = true
            return run
        }
        do {
            let system = Caller(principal: .runRecovery, organization: caller.organization, reason: "agent run \(run.id) stopped: \(why)")
            run = try await gateway.interruptAgentRun(system, run: run, why: why)
            settled = true
        } catch {
            engine.logger.error("a run could not be stopped", metadata: ["run": "\(run.id)", "error": "\(error)"])
        }
        return run
    }

    /// The run's lease was taken over by another server (this one failed to renew it in time,
    /// cut off from the store), which ends the run: later calls here are refused.
    func lapse(_ why: String) {
        settled = true
        guard run.status == .running else { return }
        run.status = .interrupted
        run.message = why
    }

    /// The ontology on the run's branch (`{}` when the project has none), as the agent may read it.
    public func ontologyText() async throws -> String {
        do {
            let (_, _, bytes) = try await gateway.readBytes(caller, project: run.project, path: ".cairn/ontology.json", at: run.branch)
            return String(decoding: bytes, as: UTF8.self)
        } catch let e as CairnError where e.code == .notFound {
            return "{}"
        }
    }

    // MARK: The eight primitives

    struct Outcome {
        var text: String
        var reads: [RunInput] = []
        var readAt: String?
        var commits: [String] = []
        var summary: String
        /// What identifies the answer across executions (see `AgentRun.Call.result`); the text by default.
        var stable: String?
        /// The answer as data (see `Answer.value`).
        var value: JSONValue?

        var digest: String { Self.sha256(stable ?? text) }

        static func sha256(_ text: String) -> String { Hex.encode(Array(SHA256.hash(data: Data(text.utf8)))) }
    }

    /// Lines as `cat -n` shows them (the number right-aligned in six columns, then a tab), the
    /// form agents are used to. Built by hand: `String(format:)` costs microseconds per line.
    static func numbered(_ lines: [String], from first: Int) -> String {
        var text = ""
        for (i, line) in lines.enumerated() {
            if i > 0 { text += "\n" }
            let number = String(first + i)
            if number.count < 6 { text += String(repeating: " ", count: 6 - number.count) }
            text += number
            text += "\t"
            text += line
        }
        return text
    }

    func perform(
        _ name: String,
        _ a: [String: JSONValue],
        as caller: Caller,
        bounds: [(caller: Caller, why: String)]
    ) async throws -> Outcome {
        func string(_ key: String) throws -> String {
            guard case .string(let s)? = a[key] else { throw CairnError(.invalidArgument, "\(name) needs '\(key)' (a string)") }
            return s
        }
        func int(_ key: String) -> Int? {
            switch a[key] {
            case .int(let i)?: Int(exactly: i)
            case .double(let d)?: Int(exactly: d)
            default: nil
            }
        }
        func bool(_ key: String) -> Bool? { if case .bool(let b)? = a[key] { b } else { nil } }
        func optionalString(_ key: String) -> String? { if case .string(let s)? = a[key] { s } else { nil } }
        func changer() throws -> Caller { with(caller, reason: try string("reason")) }
        let project = run.project
        let branch = run.branch
        switch name {
        case "Read":
            let path = try string("path")
            try await bound(.read, path, within: bounds)
            let lines = try await gateway.read(
                caller,
                project: project,
                path: path,
                at: branch,
                offset: int("offset") ?? 1,
                limit: int("limit") ?? 2000
            )
            var text = Self.numbered(lines.lines, from: lines.startLine)
            if lines.hasMore {
                text +=
                    "\n(lines \(lines.startLine)–\(lines.startLine + lines.lines.count - 1) of \(lines.totalLines); read on with offset "
                    + "\(lines.startLine + lines.lines.count))"
            }
            let content = lines.lines.joined(separator: "\n")
            return Outcome(
                text: text,
                reads: [RunInput(path: path, blob: lines.blob.hex)],
                readAt: lines.commit.hex,
                summary: "read \(path)",
                value: JSONValue.parse(Array(content.utf8)) ?? .string(content)
            )
        case "Write":
            let path = try string("path")
            try await bound(.write, path, within: bounds)
            let out = try await gateway.write(
                try changer(),
                project: project,
                path: path,
                content: Array(try string("content").utf8),
                branch: branch
            )
            return Outcome(
                text: Self.describe(out),
                commits: out.commit.map { [$0.hex] } ?? [],
                summary: "wrote \(path)",
                stable: caller.call == nil ? await state(out) : nil,
                value: Self.value(out)
            )
        case "Edit":
            let path = try string("path")
            try await bound(.write, path, within: bounds)
            let out = try await gateway.edit(
                try changer(),
                project: project,
                path: path,
                old: try string("old"),
                new: try string("new"),
                replaceAll: bool("all") ?? false,
                branch: branch
            )
            return Outcome(
                text: Self.describe(out),
                commits: out.commit.map { [$0.hex] } ?? [],
                summary: "edited \(path)",
                stable: caller.call == nil ? await state(out) : nil,
                value: Self.value(out)
            )
        case "Delete":
            let path = try string("path")
            try await bound(.delete, Glob.hasWildcards(path) ? nil : path, within: bounds)
            let out = try await gateway.delete(try changer(), project: project, pathOrGlob: path, branch: branch)
            return Outcome(
                text: Self.describe(out),
                commits: out.commit.map { [$0.hex] } ?? [],
                summary: "deleted \(out.changed.count) file(s) at \(path)",
                stable: caller.call == nil ? await state(out) : nil,
                value: Self.value(out)
            )
        case "Glob":
            let pattern = try string("pattern")
            try await bound(.read, within: bounds)
            let page = try await gateway.glob(
                caller,
                project: project,
                pattern: pattern,
                at: branch,
                limit: int("limit") ?? 1000,
                after: optionalString("cursor")
            )
            let text = page.paths.joined(separator: "\n") + (page.next.map { "\n(more: pass cursor \"\($0)\")" } ?? "")
            return Outcome(
                text: text.isEmpty ? "(no match)" : text,
                summary: "\(page.paths.count) path(s) for \(pattern)",
                value: .object(["paths": .array(page.paths.map(JSONValue.string)), "next": page.next.map(JSONValue.string) ?? .null])
            )
        case "Grep":
            try await bound(.read, within: bounds)
            let mode: GrepMode =
                switch optionalString("mode") ?? "files" {
                case "lines": .content
                case "count": .count
                default: .files
                }
            let query = GrepQuery(
                pattern: try string("pattern"),
                glob: optionalString("glob"),
                mode: mode,
                caseInsensitive: bool("caseInsensitive") ?? false,
                contextLines: int("context") ?? 0,
                headLimit: int("limit")
            )
            let result = try await gateway.grep(caller, project: project, query: query, at: branch)
            var lines: [String]
            switch mode {
            case .files: lines = result.files
            case .content: lines = result.lines.map { "\($0.path):\($0.line): \($0.text)" }
            case .count: lines = result.counts.map { "\($0.path): \($0.count)" }
            }
            if result.truncated { lines.append("(more matches: raise limit or narrow the glob)") }
            return Outcome(
                text: lines.isEmpty ? "(no match)" : lines.joined(separator: "\n"),
                readAt: result.commit.hex,
                summary: "grep \(query.pattern)",
                value: .object(["matches": .array(lines.map(JSONValue.string)), "truncated": .bool(result.truncated)])
            )
        case "Run":
            try await bound(.run, within: bounds)
            var request = try Self.decode(RunRequest.self, a, name)
            request.ref = branch
            request.message = optionalString("reason")
            let result = try await gateway.compute.run(with(caller, reason: request.message), project: project, request)
            return Outcome(
                text: String(decoding: result.json.compactBytes, as: UTF8.self),
                reads: result.read,
                readAt: result.commit,
                commits: result.output?.commit.map { [$0.hex] } ?? [],
                summary: "run \(request.function)",
                stable: result.result.text,
                value: result.json
            )
        case "Solve":
            try await bound(.solve, within: bounds)
            var request = try Self.decode(SolveRequest.self, a, name)
            request.ref = branch
            request.message = optionalString("reason")
            let result = try await gateway.compute.solve(with(caller, reason: request.message), project: project, request)
            return Outcome(
                text: try Self.json(result),
                reads: result.inputs,
                readAt: result.commit,
                commits: result.output?.commit.map { [$0.hex] } ?? [],
                summary: "solve \(request.kind): \(result.result.status.rawValue)",
                stable: ComputeArea.stableAnswer(result.result),
                value: JSONValue.parse(Array(try Self.json(result).utf8))
            )
        default:
            throw CairnError(.invalidArgument, "unknown tool '\(name)': the tools are \(Engine.tools.joined(separator: ", "))")
        }
    }

    /// The caller with the why of one call.
    func with(_ caller: Caller, reason: String?) -> Caller {
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

    /// The same effect from the blobs a commit gave the changed paths (no read needed).
    static func state(_ out: CommitOutcome, blobs: [String: ObjectID]) -> String {
        out.changed.sorted().map { "\($0)=\(blobs[$0]?.hex ?? "deleted")" }.joined(separator: "\n")
    }

    /// A change as data: its commit (null when nothing changed), branch and changed paths.
    static func value(_ out: CommitOutcome) -> JSONValue {
        .object([
            "commit": out.commit.map { .string($0.hex) } ?? .null,
            "branch": .string(out.branch),
            "changed": .array(out.changed.map(JSONValue.string)),
        ])
    }

    static func describe(_ out: CommitOutcome) -> String {
        let commit = out.commit.map { "committed \($0.hex.prefix(12))" } ?? "nothing changed"
        return "\(commit) on \(out.branch): \(out.changed.joined(separator: ", "))"
    }

    static func decode<T: Decodable>(_ type: T.Type, _ arguments: [String: JSONValue], _ tool: String) throws -> T {
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
