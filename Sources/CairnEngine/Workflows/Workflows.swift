import CairnCore
import CairnGovernance
@_spi(StoreWrites) import CairnStore
import Foundation
import Logging
import Synchronization

/// Workflows (DESIGN.md §2's AgentEngine): standing work defined in a project's files, enabled
/// by a person whose authority bounds it, started by hand or on a schedule, each run an engine
/// run (own branch, every call recorded, replay, rollback, lineage). Every surface (HTTP, CLI)
/// calls this; the scheduler (`WorkflowScheduler`) fires through it.
public final class Workflows: Sendable {
    public let engine: Engine
    public let clock: any WorkflowClock
    var gateway: Gateway { engine.gateway }
    let logger: Logger
    /// Runs this process is executing, by workflow (`ORG/PROJECT/NAME`): overlap policies and
    /// cancellation act on them.
    let active = Mutex<[String: [String: Active]]>([:])
    /// Parsed definitions by their blob id (a definition's content never changes under its id).
    let definitions = Mutex<[String: WorkflowDefinition]>([:])
    /// Every definition of each project, by name, as of the head read (for events).
    let everyDefinition = Mutex<[String: (head: String, definitions: [String: (WorkflowDefinition, String)])]>([:])
    /// Organizations by id, for events (which name theirs by id): an organization's record is
    /// read from the store once, not at every commit.
    let organizations = Mutex<[Int64: OrganizationRecord]>([:])
    /// Each project's definitions (by workflow name, with their blob) as of the head read.
    let byProject = Mutex<[String: (head: String, definitions: [String: (WorkflowDefinition, String)], version: Int)]>([:])

    /// A run in progress here: cancelled at its next step.
    final class Active: Sendable {
        let cancelled = Atomic<Bool>(false)
        let done = Mutex<[CheckedContinuation<Void, Never>]>([])
        let finished = Atomic<Bool>(false)

        func wait() async {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = done.withLock { list -> Bool in
                    if finished.load(ordering: .acquiring) { return true }
                    list.append(c)
                    return false
                }
                if now { c.resume() }
            }
        }

        func finish() {
            let waiting = done.withLock { list -> [CheckedContinuation<Void, Never>] in
                finished.store(true, ordering: .releasing)
                defer { list = [] }
                return list
            }
            for c in waiting { c.resume() }
        }
    }

    /// The agent programs agent steps may launch, by name (the server's `agentHosts`).
    public let agentHosts: [String: [String]]
    let agentEndpoint = Mutex<String?>(nil)
    /// Live agent steps' tokens, by SHA-256.
    let tickets = Mutex<[String: Ticket]>([:])

    public init(
        engine: Engine,
        clock: any WorkflowClock = SystemWorkflowClock(),
        agentHosts: [String: [String]] = [:],
        logger: Logger = Logger(label: "cairn.workflows")
    ) {
        self.engine = engine
        self.clock = clock
        self.agentHosts = agentHosts
        self.logger = logger
    }

    /// Runs in progress in this process (paused runs are not: they hold nothing).
    public var runningCount: Int { active.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    static func key(_ org: OrganizationRecord, _ project: String, _ name: String) -> String { "\(org.id)/\(project)/\(name)" }

    /// The deployment's own caller in an organization (reads definitions, enforces failure policies).
    func system(_ org: OrganizationRecord, _ why: String) -> Caller {
        Caller(principal: .workflowEngine, organization: org, reason: why)
    }

    // MARK: Definitions

    /// A workflow as listed: its definition (as stored, and whether it parses) and its state.
    public struct Summary: Sendable, Codable, Equatable {
        public let name: String
        public let definition: JSONValue?
        public let state: WorkflowState
    }

    /// The project's workflows (needs `read` on their definitions), a page at a time.
    public func list(
        _ caller: Caller,
        project: String,
        limit: Int = 100,
        cursor: String? = nil
    ) async throws -> (
        workflows: [Summary], next: String?
    ) {
        guard (1...1000).contains(limit) else { throw CairnError(.invalidArgument, "limit must be 1 to 1000") }
        let page = try await gateway.glob(
            caller,
            project: project,
            pattern: WorkflowDefinition.root + "*.json",
            limit: limit,
            after: cursor
        )
        var out: [Summary] = []
        for path in page.paths {
            guard let name = WorkflowDefinition.name(of: path) else { continue }
            out.append(try await show(caller, project: project, name: name))
        }
        return (out, page.next)
    }

    /// One workflow: its definition file and its state.
    public func show(_ caller: Caller, project: String, name: String) async throws -> Summary {
        try Self.checkName(name)
        let (_, _, bytes) = try await readDefinition(caller, project: project, name: name)
        return Summary(name: name, definition: JSONValue.parse(bytes), state: try await state(caller.organization, project, name))
    }

    /// Writes a definition (needs `configure`, as every file under `.cairn/`): validated in the
    /// commit, every problem listed (422 `invalid_workflow`), gated by the approval queue when
    /// the organization gates `workflow`.
    public func set(
        _ caller: Caller,
        project: String,
        name: String,
        definition: [UInt8],
        branch: String = "main"
    ) async throws
        -> CommitOutcome
    {
        try Self.checkName(name)
        _ = try WorkflowDefinition.parse(definition, path: WorkflowDefinition.path(name))
        return try await gateway.write(caller, project: project, path: WorkflowDefinition.path(name), content: definition, branch: branch)
    }

    func readDefinition(_ caller: Caller, project: String, name: String) async throws -> (ResolvedRef, ObjectID, [UInt8]) {
        do {
            return try await gateway.readBytes(caller, project: project, path: WorkflowDefinition.path(name), at: "main")
        } catch let e as CairnError where e.code == .notFound {
            throw CairnError(
                .notFound,
                "no workflow '\(name)' in \(project): define it at \(WorkflowDefinition.path(name))",
                details: ["workflow": name]
            )
        }
    }

    /// The definition as the engine runs it (read by the deployment, not the caller).
    func definition(_ org: OrganizationRecord, project: String, name: String) async throws -> (WorkflowDefinition, blob: String) {
        let (_, blob, bytes) = try await readDefinition(system(org, "read workflow \(name)"), project: project, name: name)
        return (try WorkflowDefinition.parse(bytes, path: WorkflowDefinition.path(name)), blob.hex)
    }

    /// The definition as the engine runs it, once the caller holds `authority` on its target.
    func authorized(
        _ caller: Caller,
        project: String,
        name: String,
        _ authority: Authority,
        action: String
    ) async throws -> (
        WorkflowDefinition, blob: String, Decision
    ) {
        try Self.checkName(name)
        let (definition, blob) = try await definition(caller.organization, project: project, name: name)
        let decision = try await gateway.authorize(
            caller,
            authority,
            AccessTarget(project: project, branch: definition.target),
            action: action
        )
        return (definition, blob, decision)
    }

    static func checkName(_ name: String) throws {
        guard WorkflowDefinition.isName(name) else {
            throw CairnError(.invalidArgument, "workflow names are 1 to 64 letters, digits, '-' or '_'", details: ["workflow": name])
        }
    }

    // MARK: State

    func state(_ org: OrganizationRecord, _ project: String, _ name: String) async throws -> WorkflowState {
        let workflow = try await gateway.workflowProject(org)
        return try await gateway.workflowRecord(WorkflowState.self, Workflow.workflowState(project, name), in: workflow)?.0
            ?? WorkflowState(project: project, workflow: name)
    }

    /// Enables a workflow: the caller (a person with `configure` on the project) answers for it
    /// from now on, and may not hand it more than they hold: each authority of its scope's role
    /// must be theirs on its target (and path), or it is refused naming the first missing one.
    public func enable(_ caller: Caller, project: String, name: String) async throws -> WorkflowState {
        let (definition, _, decision) = try await authorized(caller, project: project, name: name, .configure, action: "workflow.enable")
        let local = caller.principal.isLocal
        if !local {
            guard caller.principal.kind == .user, caller.principal.key == nil || caller.principal.key?.kind == .user else {
                throw CairnError(.permissionDenied, "only a person may enable a workflow: it acts within their authority")
            }
        }
        let policy = try await gateway.policy(caller.organization)
        guard let role = policy.role(definition.role) else {
            throw CairnError(
                .invalidWorkflow,
                "the workflow's scope names no role '\(definition.role)' of this organization",
                details: ["role": definition.role]
            )
        }
        if !local {
            let sample = definition.path.map(Self.samplePath)
            for authority in role.authorities.list {
                let target = AccessTarget(project: project, branch: definition.target, path: sample)
                guard policy.decide(caller.principal, authority, target).allowed else {
                    throw CairnError(
                        .permissionDenied,
                        "the workflow's scope (role '\(definition.role)'\(definition.path.map { " on \($0)" } ?? "")) is wider than "
                            + "\(caller.principal.subject)'s authority: they may not \(authority.rawValue) there",
                        details: ["authority": authority.rawValue, "role": definition.role]
                    )
                }
            }
        }
        // Path watches start at their branch's head: enabling never fires for what was there.
        var marks: [String: String] = [:]
        if !definition.watches.isEmpty {
            let handle = try await gateway.repository.project(project, organization: caller.organization.id)
            for (index, watch) in definition.watches {
                do {
                    marks[String(index)] = try await handle.resolve(watch.branch).commit.hex
                } catch {
                    throw CairnError(
                        .invalidWorkflow,
                        "the workflow watches branch '\(watch.branch)', which does not exist",
                        details: ["branch": watch.branch]
                    )
                }
            }
        }
        let watermarks = marks
        return try await updateState(caller, project: project, name: name, action: "workflow.enable", decision: decision) { s in
            s.watermarks = watermarks
            s.enabled = true
            s.paused = false
            s.enabledBy = caller.principal.subject
            s.enabledLocally = local
            s.enabledAt = Clock.rfc3339(Int64(self.clock.now().timeIntervalSince1970 * 1000))
            // Schedules count from now: enabling never replays firings from before.
            let now = Int64(self.clock.now().timeIntervalSince1970 * 1000)
            for i in definition.triggers.indices { s.scheduled[String(i)] = now }
        }
    }

    /// A concrete path a glob matches, to ask whether a person may act there.
    static func samplePath(_ glob: String) -> String {
        var out = ""
        for c in glob {
            if "*?[{".contains(c) { break }
            out.append(c)
        }
        return out + (out.isEmpty || out.hasSuffix("/") ? "x" : "")
    }

    /// Disables a workflow: no new firing, and runs in progress stop before their next step.
    public func disable(_ caller: Caller, project: String, name: String) async throws -> WorkflowState {
        try await change(caller, project: project, name: name, action: "workflow.disable") { $0.enabled = false }
    }

    /// Pauses scheduled firings (recorded as skipped) without disabling manual runs.
    public func pause(_ caller: Caller, project: String, name: String) async throws -> WorkflowState {
        try await change(caller, project: project, name: name, action: "workflow.pause") { $0.paused = true }
    }

    /// Resumes scheduled firings from now (firings missed while paused are not replayed).
    public func resume(_ caller: Caller, project: String, name: String) async throws -> WorkflowState {
        let now = Int64(clock.now().timeIntervalSince1970 * 1000)
        return try await change(caller, project: project, name: name, action: "workflow.resume") { s in
            s.paused = false
            for k in s.scheduled.keys { s.scheduled[k] = now }
        }
    }

    func change(
        _ caller: Caller,
        project: String,
        name: String,
        action: String,
        _ edit: @escaping @Sendable (inout WorkflowState) -> Void
    )
        async throws -> WorkflowState
    {
        try Self.checkName(name)
        let decision = try await gateway.authorize(caller, .configure, AccessTarget(project: project), action: action)
        _ = try await readDefinition(caller, project: project, name: name)
        return try await updateState(caller, project: project, name: name, action: action, decision: decision, edit)
    }

    func updateState(
        _ caller: Caller,
        project: String,
        name: String,
        action: String,
        decision: Decision,
        _ edit: @escaping @Sendable (inout WorkflowState) -> Void
    ) async throws -> WorkflowState {
        let path = Workflow.workflowState(project, name)
        let (state, _) = try await gateway.updateWorkflow(
            caller,
            action: action,
            decision: decision,
            target: AccessTarget(project: project),
            detail: ["workflow": name]
        ) { workflow, _ in
            var s =
                try await self.gateway.workflowRecord(WorkflowState.self, path, in: workflow)?.0
                ?? WorkflowState(project: project, workflow: name)
            edit(&s)
            return ([.write(path: path, content: Workflow.encode(s))], s)
        }
        if action == "workflow.disable" {
            for a in active.withLock({ Array(($0[Self.key(caller.organization, project, name)] ?? [:]).values) }) {
                a.cancelled.store(true, ordering: .relaxed)
            }
        }
        return state
    }

    // MARK: Runs

    /// The project's runs of one workflow, oldest first, a page at a time.
    public func runs(
        _ caller: Caller,
        project: String,
        name: String,
        limit: Int = 50,
        cursor: String? = nil
    ) async throws -> (
        runs: [WorkflowRun], next: String?
    ) {
        try Self.checkName(name)
        guard (1...500).contains(limit) else { throw CairnError(.invalidArgument, "limit must be 1 to 500") }
        _ = try await readDefinition(caller, project: project, name: name)
        let page = try await gateway.workflowPage(
            caller.organization,
            prefix: Workflow.workflowRuns(project, name),
            limit: limit,
            cursor: cursor
        ) { (r: WorkflowRun) in r }
        return (page.items, page.next)
    }

    /// One run of a workflow.
    public func run(_ caller: Caller, project: String, name: String, id: String) async throws -> WorkflowRun {
        try Self.checkName(name)
        _ = try await readDefinition(caller, project: project, name: name)
        guard let (run, _) = try await record(caller.organization, project, name, id) else {
            throw CairnError(.notFound, "no run '\(id)' of workflow \(name)", details: ["run": id])
        }
        return run
    }

    func record(_ org: OrganizationRecord, _ project: String, _ name: String, _ id: String) async throws -> (WorkflowRun, ObjectID)? {
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return nil }
        return try await gateway.workflowRecord(
            WorkflowRun.self,
            Workflow.workflowRun(project, name, id),
            in: try await gateway.workflowProject(org)
        )
    }

    /// Cancels a run in progress on this server: it stops before its next step, by its failure policy.
    public func cancel(_ caller: Caller, project: String, name: String, id: String) async throws -> WorkflowRun {
        _ = try await gateway.authorize(caller, .run, AccessTarget(project: project), action: "workflow.run.cancel")
        let run = try await run(caller, project: project, name: name, id: id)
        if run.status == .paused {
            // Waiting for approval, it holds nothing here: ended now, by its failure policy.
            guard let taken = try await takePaused(caller.organization, project, name, id, action: "workflow.run.cancel") else {
                throw CairnError(.conflict, "run \(id) is no longer waiting for approval")
            }
            return await conclude(caller.organization, taken, why: "cancelled by \(caller.principal.subject)", status: .cancelled)
        }
        guard run.status == .running || run.status == .fired else {
            throw CairnError(.conflict, "run \(id) has ended (\(run.status.rawValue))")
        }
        guard let a = active.withLock({ $0[Self.key(caller.organization, project, name)]?[id] }) else {
            throw CairnError(.conflict, "run \(id) is not in progress on this server")
        }
        a.cancelled.store(true, ordering: .relaxed)
        return run
    }
}
