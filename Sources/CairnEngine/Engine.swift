import CairnCore
import CairnGovernance
import CairnStore
import Foundation
import Logging
import Synchronization

/// The engine layer (DESIGN.md §2): where runs live. A surface starts a run here and hands it
/// calls; the engine decides each call against the access configuration as it is at that
/// moment, bounds it by whoever stands behind the agent, records it with its effect, and ends
/// runs whose session is gone by a stated policy. Workflows, automations and syncs will be runs
/// of this same engine, so no surface ever holds run policy of its own.
public final class Engine: Sendable {
    /// What becomes of a run whose session is gone (its transport closed without ending it, its
    /// server stopped or died).
    public enum RecoveryPolicy: String, Sendable, Codable, CaseIterable {
        /// Ended as `interrupted`, its branch kept for a person to merge or discard.
        case interrupt
        /// Ended as if its session had ended: what it did merges (or waits as a merge request).
        case merge
    }

    /// The eight primitives: the only tools an agent has.
    public static let tools = ["Read", "Write", "Edit", "Delete", "Glob", "Grep", "Run", "Solve"]

    public let gateway: Gateway
    public let recovery: RecoveryPolicy
    let logger: Logger
    /// The sessions this process holds, by run id.
    private let live = Mutex<[String: RunSession]>([:])

    public init(gateway: Gateway, recovery: RecoveryPolicy = .interrupt, logger: Logger = Logger(label: "cairn.engine")) {
        self.gateway = gateway
        self.recovery = recovery
        self.logger = logger
    }

    /// Runs this process is serving now.
    public var liveCount: Int { live.withLock { $0.count } }

    // MARK: Sessions

    /// Starts a run for `caller` (the agent) on `project`, forked from `target` (or, for a child
    /// run, from its parent's branch), and holds its session.
    public func start(_ caller: Caller, project: String, target: String = "main", onBehalfOf: String? = nil, parent: String? = nil) async throws -> RunSession {
        let run = try await gateway.startAgentRun(caller, project: project, target: target, onBehalfOf: onBehalfOf, parent: parent)
        let session = RunSession(engine: self, caller: caller, run: run)
        do {
            _ = try await session.bounds()
        } catch {
            // A child run whose parent's agent has no valid key may not start at all.
            _ = await session.interrupt("refused at start: \(error)")
            throw error
        }
        live.withLock { $0[run.id] = session }
        return session
    }

    /// Ends a session's run normally (its client closed it).
    public func end(_ session: RunSession) async -> AgentRun {
        let run = await session.finish()
        _ = live.withLock { $0.removeValue(forKey: run.id) }
        return run
    }

    /// Ends a session whose transport is gone, by the recovery policy.
    public func abandon(_ session: RunSession, why: String) async -> AgentRun {
        let run = await session.interrupt(why)
        _ = live.withLock { $0.removeValue(forKey: run.id) }
        return run
    }

    /// Ends every session this process holds by the recovery policy (the server is stopping).
    public func abandonAll(why: String) async {
        let sessions = live.withLock { Array($0.values) }
        await withTaskGroup(of: Void.self) { group in
            for session in sessions { group.addTask { _ = await self.abandon(session, why: why) } }
        }
    }

    // MARK: Records

    /// A call's record ready to go with its commit: rendered from the commit's outcome when the
    /// transaction is prepared.
    struct Recording: Sendable {
        let companion: Companion
        private let box: Box

        final class Box: Sendable {
            let call = Mutex<AgentRun.Call?>(nil)
        }

        init(companion: Companion, box: Box) {
            self.companion = companion
            self.box = box
        }

        /// The record as committed (nil until a commit took it).
        var rendered: AgentRun.Call? { companion.taken == nil ? nil : box.call.withLock { $0 } }
    }

    func recording(_ caller: Caller, run: AgentRun, seq: Int, tool: String, arguments: JSONValue, draft: CallDraft, started: UInt64) async throws -> Recording {
        let workflow = try await gateway.workflowProject(caller.organization)
        let box = Recording.Box()
        let path = Workflow.agentRunCall(run.project, run.id, seq)
        let summary = Self.summary(tool, arguments)
        let audit = gateway.callAudit(caller, run: run, tool: tool)
        let companion = Companion(
            project: workflow.record.id, branch: "main",
            metadata: CommitMetadata(author: caller.principal.subject, message: "record of call \(seq) of run \(run.id)", actorKind: caller.principal.kind, runID: run.id, step: seq),
            audit: audit
        ) { outcome, blobs in
            let noted = draft.noted
            let call = AgentRun.Call(
                seq: seq, tool: tool, arguments: arguments, decision: "allowed", reads: noted.reads, readAt: noted.readAt ?? outcome.head.hex,
                commits: outcome.commit.map { [$0.hex] } ?? [], summary: summary(outcome),
                result: RunSession.Outcome.sha256(noted.stable ?? RunSession.state(outcome, blobs: blobs)), error: nil,
                milliseconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6, at: Clock.rfc3339(Clock.nowMillis()))
            box.call.withLock { $0 = call }
            return [(path, Workflow.encode(call))]
        }
        return Recording(companion: companion, box: box)
    }

    /// What a committing call did, in a few words.
    static func summary(_ tool: String, _ arguments: JSONValue) -> @Sendable (CommitOutcome) -> String {
        func argument(_ key: String) -> String {
            if case .object(let o) = arguments, case .string(let s)? = o[key] { return s }
            return ""
        }
        let path = argument("path"), function = argument("function"), kind = argument("kind")
        return { outcome in
            switch tool {
            case "Write": "wrote \(path)"
            case "Edit": "edited \(path)"
            case "Delete": "deleted \(outcome.changed.count) file(s) at \(path)"
            case "Run": "run \(function)"
            case "Solve": "solve \(kind)"
            default: tool
            }
        }
    }

    /// A record on its own (a call that committed nothing), durable before it returns.
    func writeRecord(_ caller: Caller, run: AgentRun, _ call: AgentRun.Call) async throws {
        try await gateway.recordAgentCall(caller, run: run, call)
    }

    func announce(_ caller: Caller, _ run: AgentRun, call: AgentRun.Call?) {
        gateway.announceRun(caller, run, action: "agent.run.call", call: call)
    }

    func finish(_ caller: Caller, run: AgentRun) async throws -> AgentRun {
        try await gateway.finishAgentRun(caller, run: run)
    }

    /// Ends a run by the recovery policy.
    func recover(_ caller: Caller, run: AgentRun, why: String) async throws -> AgentRun {
        switch recovery {
        case .merge: return try await gateway.finishAgentRun(caller, run: run)
        case .interrupt: return try await gateway.interruptAgentRun(caller, run: run, why: why)
        }
    }
}
