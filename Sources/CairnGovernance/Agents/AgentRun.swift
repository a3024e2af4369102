import CairnCore
import CairnStore
import Foundation

/// One agent session as a run: who acts (the agent) for whom, on which project, on a branch of
/// its own forked from the target when it starts, and every tool call it made. Kept in the
/// organization's `_workflow` project (`agent-runs/PROJECT/ID.json`), one commit per call, so
/// the history has the store's guarantees.
public struct AgentRun: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case running
        case awaitingApproval = "awaiting_approval"
        case merged, completed, conflicts, failed
        case rolledBack = "rolled_back"
    }

    public struct Call: Sendable, Codable, Equatable {
        public let seq: Int
        public let tool: String
        public let arguments: JSONValue
        /// `allowed` or `denied`.
        public let decision: String
        /// What the call read (path and blob), at which commit, and the commits it made.
        public let reads: [RunInput]
        public let readAt: String?
        public let commits: [String]
        public let summary: String
        public let error: String?
        public let milliseconds: Double
        public let at: String

        public init(
            seq: Int, tool: String, arguments: JSONValue, decision: String, reads: [RunInput], readAt: String?, commits: [String], summary: String,
            error: String?, milliseconds: Double, at: String
        ) {
            (self.seq, self.tool, self.arguments, self.decision, self.reads, self.readAt) = (seq, tool, arguments, decision, reads, readAt)
            (self.commits, self.summary, self.error, self.milliseconds, self.at) = (commits, summary, error, milliseconds, at)
        }
    }

    public let id: String
    public let project: String
    public let agent: String
    /// The person or workflow that launched it.
    public let onBehalfOf: String?
    public let target: String
    /// The run's own branch, and the target's head it was forked from.
    public let branch: String
    public let base: String
    public var status: Status
    public let started: String
    public var finished: String?
    public var calls: [Call]
    public var mergeRequest: Int?
    public var mergeCommit: String?
    /// The run branch's head when it ended: with `base`, the run's net change.
    public var head: String?
    public var rollbackCommit: String?
    public var message: String?
}

extension Workflow {
    static func agentRuns(_ project: String) -> String { "agent-runs/\(project)/" }
    static func agentRun(_ project: String, _ id: String) -> String { agentRuns(project) + id + ".json" }
}

extension Gateway {
    /// Starts a run: checks the agent may work on the project, forks the run's branch from the
    /// target, and records the run.
    public func startAgentRun(_ caller: Caller, project name: String, target: String = "main", onBehalfOf: String? = nil) async throws -> AgentRun {
        let (project, decision) = try await open(caller, name, .read, branch: target, action: "agent.run.start")
        let base = try await project.resolve(target).commit
        let id = Self.runID()
        let branch = "agent-runs/\(id)"
        _ = try await createBranch(caller, project: name, branch: branch, from: base.hex)
        let run = AgentRun(
            id: id, project: name, agent: caller.principal.subject, onBehalfOf: onBehalfOf, target: target, branch: branch, base: base.hex, status: .running,
            started: Clock.rfc3339(Clock.nowMillis()), calls: [])
        try await saveRun(caller, run, decision: decision, action: "agent.run.start")
        return run
    }

    /// Appends a call to the run's record.
    public func recordAgentCall(_ caller: Caller, run: AgentRun, _ call: AgentRun.Call) async throws -> AgentRun {
        var updated = run
        updated.calls.append(call)
        let decision = try await authorize(caller, .read, AccessTarget(project: run.project, branch: run.target), action: "agent.run.call")
        try await saveRun(caller, updated, decision: decision, action: "agent.run.call")
        return updated
    }

    /// Ends a run: its changes merge into the target when the target may take them directly;
    /// into a protected target they go as a merge request; conflicting changes made meanwhile on
    /// the target are reported and the run's branch is kept, nothing overwritten.
    public func finishAgentRun(_ caller: Caller, run: AgentRun) async throws -> AgentRun {
        var run = run
        var caller = caller
        caller.reason = "end of agent run \(run.id)"
        guard run.status == .running else { return run }
        let (project, decision) = try await open(caller, run.project, .read, branch: run.target, action: "agent.run.finish")
        let head = try await project.resolve(run.branch).commit
        run.head = head.hex
        if head.hex == run.base {
            run.status = .completed
            run.message = "no changes"
            try? await deleteBranch(caller, project: run.project, branch: run.branch)
        } else if try await protection(project).rule(for: run.target) != nil {
            let request = try await openMergeRequest(
                caller, project: run.project, source: run.branch, target: run.target, title: "agent run \(run.id) by \(run.agent)",
                description: run.calls.filter { !$0.commits.isEmpty }.map { "- \($0.tool): \($0.summary)" }.joined(separator: "\n"))
            run.status = .awaitingApproval
            run.mergeRequest = request.request.number
        } else {
            do {
                switch try await merge(caller, project: run.project, source: run.branch, into: run.target) {
                case .merged(let outcome, _):
                    run.status = .merged
                    run.mergeCommit = outcome.commit?.hex
                case .conflicts(let conflicts, _, _, _):
                    run.status = .conflicts
                    run.message = "conflicts with changes made meanwhile on \(run.target): " + conflicts.map(\.path).joined(separator: ", ")
                }
            } catch let e as CairnError {
                run.status = .failed
                run.message = e.message
            }
        }
        run.finished = Clock.rfc3339(Clock.nowMillis())
        try await saveRun(caller, run, decision: decision, action: "agent.run.finish")
        return run
    }

    /// A run's record (needs `read` on its project).
    public func agentRun(_ caller: Caller, project name: String, id: String) async throws -> AgentRun {
        _ = try await open(caller, name, .read, action: "agent.run.read")
        let workflow = try await workflowProject(caller.organization)
        guard let (run, _) = try await workflowRecord(AgentRun.self, Workflow.agentRun(name, id), in: workflow) else {
            throw CairnError(.notFound, "no agent run '\(id)' in \(name)")
        }
        return run
    }

    /// The project's runs, newest last, paginated.
    public func agentRuns(_ caller: Caller, project name: String, limit: Int = 50, cursor: String? = nil) async throws -> (runs: [AgentRun], next: String?) {
        _ = try await open(caller, name, .read, action: "agent.run.list")
        let page = try await workflowPage(caller.organization, prefix: Workflow.agentRuns(name), limit: max(1, min(limit, 500)), cursor: cursor) { (r: AgentRun) in r }
        return (page.items, page.next)
    }

    func saveRun(_ caller: Caller, _ run: AgentRun, decision: Decision, action: String) async throws {
        _ = try await updateWorkflow(caller, action: action, decision: decision, target: AccessTarget(project: run.project, branch: run.target), detail: ["run": run.id]) { _, _ in
            ([.write(path: Workflow.agentRun(run.project, run.id), content: Workflow.encode(run))], ())
        }
    }

    /// Sortable by start: a millisecond timestamp, then randomness.
    static func runID() -> String {
        let ms = String(Clock.nowMillis(), radix: 36)
        return String(repeating: "0", count: max(0, 9 - ms.count)) + ms + "-" + UUID().uuidString.prefix(8).lowercased()
    }
}
