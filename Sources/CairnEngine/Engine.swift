import CairnCore
import CairnGovernance
@_spi(StoreWrites) import CairnStore
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
    public static let tools = Primitive.all.map(\.name)

    public let gateway: Gateway
    public let recovery: RecoveryPolicy
    /// This process's name on the leases of the runs it holds.
    public let holder: LeaseHolder
    /// How long a run's lease lasts unrenewed: how soon after a server dies on another machine
    /// its runs are recovered (a dead process on this machine is seen at once).
    public let leaseMillis: Millis
    let logger: Logger
    /// The sessions this process holds, by run id.
    private let live = Mutex<[String: RunSession]>([:])
    /// The leases this process holds for its sessions, from just before a run starts until just
    /// after it ended: never swept as orphans.
    let held = Mutex<Set<String>>([])
    /// When this process's leases were last renewed (the renewal's start, monotonic).
    let renewedAt = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)
    var leases: any LeaseStore { gateway.repository.storage }

    public init(
        gateway: Gateway,
        recovery: RecoveryPolicy = .interrupt,
        leaseSeconds: Double = 15,
        holder: LeaseHolder = .current(),
        logger: Logger = Logger(label: "cairn.engine")
    ) {
        self.gateway = gateway
        self.recovery = recovery
        self.leaseMillis = Millis(max(1, leaseSeconds) * 1000)
        self.holder = holder
        self.logger = logger
    }

    /// Runs this process is serving now.
    public var liveCount: Int { live.withLock { $0.count } }

    // MARK: Sessions

    /// Starts a run for `caller` (the agent) on `project`, forked from `target` (or, for a child
    /// run, from its parent's branch), and holds its session. The run's lease is taken first,
    /// so no instant exists at which the run is `running` and no live server answers for it.
    public func start(
        _ caller: Caller,
        project: String,
        target: String = "main",
        onBehalfOf: String? = nil,
        parent: String? = nil,
        continuing: (branch: String, base: String)? = nil,
        workflow: String? = nil
    ) async throws -> RunSession {
        let id = Gateway.runID()
        let lease = Self.leaseName(organization: caller.organization.id, project: project, run: id)
        held.withLock { _ = $0.insert(lease) }
        let run: AgentRun
        do {
            guard try await leases.takeLease(lease, holder: holder.id, ttlMillis: leaseMillis, replacing: nil) else {
                throw CairnError(.conflict, "run id \(id) is already held; start the session again")
            }
            run = try await gateway.startAgentRun(
                caller,
                project: project,
                target: target,
                onBehalfOf: onBehalfOf,
                parent: parent,
                id: id,
                continuing: continuing,
                workflow: workflow
            )
        } catch {
            await release(lease)
            throw error
        }
        let session = RunSession(engine: self, caller: caller, run: run, lease: lease)
        do {
            _ = try await session.bounds()
        } catch {
            // A child run whose parent's agent has no valid key may not start at all.
            _ = await session.interrupt("refused at start: \(error)")
            await settle(session)
            throw error
        }
        live.withLock { $0[run.id] = session }
        return session
    }

    /// Ends a session's run normally (its client closed it).
    public func end(_ session: RunSession) async -> AgentRun {
        let run = await session.finish()
        await settle(session)
        return run
    }

    /// Ends a session whose transport is gone, by the recovery policy.
    public func abandon(_ session: RunSession, why: String) async -> AgentRun {
        let run = await session.interrupt(why)
        await settle(session)
        return run
    }

    /// Ends a session's run as `interrupted`, its branch kept, whatever the recovery policy:
    /// a workflow stopping at a failed step.
    public func stop(_ session: RunSession, why: String) async -> AgentRun {
        let run = await session.stop(why)
        await settle(session)
        return run
    }

    /// Ends every session this process holds by the recovery policy (the server is stopping).
    public func abandonAll(why: String) async {
        let sessions = live.withLock { Array($0.values) }
        await withTaskGroup(of: Void.self) { group in
            for session in sessions { group.addTask { _ = await self.abandon(session, why: why) } }
        }
    }

    /// The live session holding `lease`, if any.
    func session(holding lease: String) -> RunSession? {
        live.withLock { $0.values.first { $0.lease == lease } }
    }

    /// A session is over here: its lease goes once its end is recorded. If recording failed the
    /// lease stays in the store under this holder, and the sweep ends the run again later.
    func settle(_ session: RunSession) async {
        _ = live.withLock { $0.removeValue(forKey: session.runID) }
        if await session.settled {
            await release(session.lease)
        } else {
            _ = held.withLock { $0.remove(session.lease) }
            logger.warning("a run's end could not be recorded; the lease sweep will end it", metadata: ["run": "\(session.runID)"])
        }
    }

    /// Gives a lease up. If the store cannot be reached the row stays, held by this holder,
    /// and the sweep gives it up once it finds the run ended.
    func release(_ lease: String) async {
        do {
            try await leases.releaseLease(lease, holder: holder.id)
        } catch {
            logger.warning("a run's lease could not be released; the sweep will", metadata: ["lease": "\(lease)", "error": "\(error)"])
        }
        _ = held.withLock { $0.remove(lease) }
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

    func recording(
        _ caller: Caller,
        run: AgentRun,
        seq: Int,
        tool: String,
        arguments: JSONValue,
        draft: CallDraft,
        started: UInt64
    ) async throws -> Recording {
        let project = try await gateway.project(caller, run.project).record.id
        let box = Recording.Box()
        let summary = Self.summary(tool, arguments)
        let audit = gateway.callAudit(caller, run: run, tool: tool)
        // The closure keeps the run's id, not the run: holding the run would share its list of
        // calls, and the session's next append would then copy the whole list (a cost growing
        // with every call of the run).
        let runID = run.id
        let companion = Companion(audit: audit) { outcome, blobs in
            let noted = draft.noted
            let call = AgentRun.Call(
                seq: seq,
                tool: tool,
                arguments: arguments,
                decision: "allowed",
                reads: noted.reads,
                readAt: noted.readAt ?? outcome.head.hex,
                commits: outcome.commit.map { [$0.hex] } ?? [],
                summary: summary(outcome),
                result: RunSession.Outcome.sha256(noted.stable ?? RunSession.state(outcome, blobs: blobs)),
                error: nil,
                milliseconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6,
                at: Clock.rfc3339(Clock.nowMillis())
            )
            box.call.withLock { $0 = call }
            return try call.row(project: project, run: runID)
        }
        return Recording(companion: companion, box: box)
    }

    /// What a committing call did, in a few words.
    static func summary(_ tool: String, _ arguments: JSONValue) -> @Sendable (CommitOutcome) -> String {
        func argument(_ key: String) -> String {
            if case .object(let o) = arguments, case .string(let s)? = o[key] { return s }
            return ""
        }
        let path = argument("path")
        let function = argument("function")
        let kind = argument("kind")
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

    /// Ends a run by the recovery policy, as the server's own action (`Principal.runRecovery`):
    /// the agent's key may be why its session ended. Merging, though, stays within the agent's
    /// authority: a run whose agent has no valid key any more is interrupted instead.
    func recover(_ organization: OrganizationRecord, run: AgentRun, why: String) async throws -> AgentRun {
        if recovery == .merge, let agent = try await gateway.agentCaller(for: run, organization: organization) {
            return try await gateway.finishAgentRun(agent, run: run)
        }
        let system = Caller(principal: .runRecovery, organization: organization, reason: "agent run \(run.id) interrupted: \(why)")
        return try await gateway.interruptAgentRun(system, run: run, why: why)
    }
}
