import CairnCore
import CairnGovernance
@_spi(StoreWrites) import CairnStore
import Foundation
import Metrics

/// One agent session as a run: who acts (the agent) for whom, on which project, on a branch of
/// its own forked from the target when it starts, and every tool call it made. Kept in the
/// organization's `_workflow` project, so the history has the store's guarantees: the run at
/// `agent-runs/PROJECT/ID.json` (written at its start and end), each call in a small file of
/// its own, `agent-runs/PROJECT/ID/BUCKET/SEQ.json`, one commit per call (a call costs about its
/// own size, not the history's).
public struct AgentRun: Sendable, Codable, Equatable {
    /// Where a run stands; it follows what happened to its changes (merged, discarded, rolled back)
    /// and ends `interrupted` when its session is gone.
    public enum Status: String, Sendable, Codable {
        case running
        case awaitingApproval = "awaiting_approval"
        case merged, completed, conflicts, failed
        case rolledBack = "rolled_back"
        /// Its session ended without closing it (transport gone, server stopped or died): its
        /// branch holds what it did, for a person to merge or discard.
        case interrupted
        /// Its merge request was closed or rejected: its changes never reached the target.
        case discarded
    }

    /// One tool call of a run as recorded: the tool, its arguments, what it read and wrote, its
    /// answer's digest or its error.
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
        /// A digest of the result with what varies between executions left out (commit ids,
        /// times): equal digests mean the same answer, for replay.
        public let result: String?
        public let error: String?
        public let milliseconds: Double
        public let at: String

        public init(
            seq: Int,
            tool: String,
            arguments: JSONValue,
            decision: String,
            reads: [RunInput],
            readAt: String?,
            commits: [String],
            summary: String,
            result: String?,
            error: String?,
            milliseconds: Double,
            at: String
        ) {
            (self.seq, self.tool, self.arguments, self.decision, self.reads, self.readAt) = (seq, tool, arguments, decision, reads, readAt)
            (self.commits, self.summary, self.result, self.error, self.milliseconds, self.at) = (
                commits, summary, result, error, milliseconds, at
            )
        }
    }

    public let id: String
    public let project: String
    public let agent: String
    /// How the agent authenticated (`key:ID`, never the secret): replay acts as that key does now.
    public let credential: String?
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
    /// The run this one is a child of: it works on a branch forked from the parent's, merges
    /// back into it, and may do nothing its parent could not.
    public var parent: String?
    /// The workflow run this engine run serves (`NAME/RUN`), for lineage.
    public var workflow: String?

    /// The workflow and its run, when a workflow's run made this one.
    public var workflowRun: (String, String)? {
        guard let workflow, let slash = workflow.firstIndex(of: "/") else { return nil }
        return (String(workflow[..<slash]), String(workflow[workflow.index(after: slash)...]))
    }
}

extension AgentRun.Call {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The call as its run's history stores it.
    func row(project: Int64, run: String) throws -> RunCallRecord {
        RunCallRecord(
            project: project,
            run: run,
            seq: Int64(seq),
            timeMillis: Clock.nowMillis(),
            body: Array(try Self.encoder.encode(self))
        )
    }
}

extension AgentRun {
    /// The same run on another branch (a replay's scratch branch), with no calls yet.
    public init(copying run: AgentRun, branch: String) {
        self = AgentRun(
            id: run.id,
            project: run.project,
            agent: run.agent,
            credential: run.credential,
            onBehalfOf: run.onBehalfOf,
            target: run.target,
            branch: branch,
            base: run.base,
            status: .running,
            started: run.started,
            calls: [],
            parent: run.parent
        )
    }
}

extension Workflow {
    package static func agentRuns(_ project: String) -> String { "agent-runs/\(project)/" }
    package static func agentRun(_ project: String, _ id: String) -> String { agentRuns(project) + id + ".json" }
    /// Where runs recorded before calls were rows kept each call: in folders of 64.
    package static func agentRunCall(_ project: String, _ id: String, _ seq: Int) -> String {
        func padded(_ n: Int, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(n).count)) + String(n) }
        return agentRuns(project) + id + "/" + padded(seq / 64, 6) + "/" + padded(seq, 8) + ".json"
    }
}

extension Gateway {
    /// Starts a run: checks the agent may work on the project, forks the run's branch from the
    /// target, and records the run.
    public func startAgentRun(
        _ caller: Caller,
        project name: String,
        target: String = "main",
        onBehalfOf: String? = nil,
        parent: String? = nil,
        id: String = Gateway.runID(),
        continuing: (branch: String, base: String)? = nil,
        workflow: String? = nil
    ) async throws -> AgentRun {
        var target = target
        var onBehalfOf = onBehalfOf
        if let parent {
            // A child run works on its parent's branch and for its parent's launcher (the
            // parent's header is enough: its calls are not read).
            _ = try await open(caller, name, .read, action: "agent.run.read")
            guard
                let (up, _) = try await workflowRecord(
                    AgentRun.self,
                    Workflow.agentRun(name, parent),
                    in: try await workflowProject(caller.organization)
                )
            else {
                throw CairnError(.notFound, "no agent run '\(parent)' in \(name)")
            }
            guard up.status == .running else { throw CairnError(.conflict, "run \(parent) has ended: a child run needs a running parent") }
            target = up.branch
            onBehalfOf = up.onBehalfOf
        }
        let (project, decision) = try await open(caller, name, .read, branch: target, action: "agent.run.start")
        // A run continuing another (a workflow past its approval step) forks from that run's
        // branch, and keeps its base: its changes are both runs' changes.
        let forkPoint = try await project.resolve(continuing?.branch ?? target).commit
        let base = continuing.flatMap { ObjectID(hex: $0.base) } ?? forkPoint
        let branch = "agent-runs/\(id)"
        // The run's own branch is made as part of starting the run, which needs only `read`: a
        // read-only agent may hold a session, and each call is authorized on its own.
        let forked = AccessTarget(project: name, branch: branch)
        let info = try await change(caller, action: "branch.create", decision: decision, target: forked) {
            try await project.createBranch(
                branch,
                from: forkPoint.hex,
                principal: caller.principal.subject,
                audit: auditHook(
                    caller,
                    action: "branch.create",
                    decision: decision,
                    target: forked,
                    detail: ["from": target, "for": "agent run"]
                )
            )
        }
        publish(
            caller,
            project: name,
            action: "branch.create",
            outcome: CommitOutcome(commit: info.head, head: info.head, branch: branch, changed: [])
        )
        let run = AgentRun(
            id: id,
            project: name,
            agent: caller.principal.subject,
            credential: caller.principal.credential,
            onBehalfOf: onBehalfOf,
            target: target,
            branch: branch,
            base: base.hex,
            status: .running,
            started: Clock.rfc3339(Clock.nowMillis()),
            calls: [],
            parent: parent,
            workflow: workflow
        )
        try await saveRun(caller, run, decision: decision, action: "agent.run.start")
        Counter(label: "cairn_agent_runs_total", dimensions: [("status", "started")]).increment()
        announceRun(caller, run, action: "agent.run.start")
        return run
    }

    /// A run's start, calls and end on the project's change feed, live for whoever may read the run's branch.
    func announceRun(_ caller: Caller, _ run: AgentRun, action: String, call: AgentRun.Call? = nil) {
        var event = ChangeEvent(
            project: run.project,
            branch: run.branch,
            commit: call?.commits.last,
            paths: (call?.reads.map(\.path) ?? []),
            actor: run.agent,
            action: action,
            time: Clock.rfc3339(Clock.nowMillis())
        )
        event.run = run.id
        event.call = call?.seq
        event.tool = call?.tool
        event.outcome = call.map { $0.error ?? $0.summary } ?? run.status.rawValue
        feed.publish(organization: caller.organization.id, event)
    }

    /// Writes the record of a call that committed nothing, with its audit line, durable before
    /// it returns: one transaction of two small appends.
    func recordAgentCall(_ caller: Caller, run: AgentRun, _ call: AgentRun.Call) async throws {
        let target = AccessTarget(project: run.project, branch: run.target)
        let decision = try await authorize(caller, .read, target, action: "agent.run.call")
        let project = try await project(caller, run.project).record.id
        var batch = WriteBatch()
        let row = try call.row(project: project, run: run.id)
        batch.runCalls = [row]
        batch.audit = [
            makeRecord(
                caller,
                action: "agent.run.call",
                outcome: "ok",
                decision: decision,
                target: target,
                paths: nil,
                detail: ["run": run.id, "tool": call.tool].merging(Self.recordDetail(row)) { _, new in new }
            ).append(organization: caller.organization.id)
        ]
        try await repository.storage.apply(batch)
    }

    /// The audit record of a call that commits, written with the call's record.
    func callAudit(_ caller: Caller, run: AgentRun, tool: String) -> Companion.Audit {
        let record = makeRecord(
            caller,
            action: "agent.run.call",
            outcome: "ok",
            decision: nil,
            target: AccessTarget(project: run.project, branch: run.target),
            paths: nil,
            detail: ["run": run.id, "tool": tool]
        )
        let org = caller.organization.id
        return { outcome, row in
            var r = record
            r.commit = outcome.commit?.hex
            r.detail?.merge(Self.recordDetail(row)) { _, new in new }
            return r.append(organization: org)
        }
    }

    /// What a call's audit line says of its record: its number and the digest of its row.
    package static func recordDetail(_ row: RunCallRecord) -> [String: String] {
        ["seq": String(row.seq), "record": row.digest]
    }

    /// A run's header, read without a caller: for the engine's own checks (a child's bounds).
    func agentRunHeader(_ org: OrganizationRecord, project: String, id: String) async throws -> AgentRun {
        guard let (run, _) = try await workflowRecord(AgentRun.self, Workflow.agentRun(project, id), in: try await workflowProject(org))
        else {
            throw CairnError(.notFound, "no agent run '\(id)' in \(project)")
        }
        return run
    }

    /// Ends a run whose session is gone: `interrupted`, its branch kept as it is.
    func interruptAgentRun(_ caller: Caller, run: AgentRun, why: String) async throws -> AgentRun {
        var run = run
        guard run.status == .running else { return run }
        var caller = caller
        caller.reason = "agent run \(run.id) interrupted"
        let (project, decision) = try await open(caller, run.project, .read, branch: run.target, action: "agent.run.interrupt")
        run.head = try await project.resolve(run.branch).commit.hex
        run.status = .interrupted
        run.message = why
        run.finished = Clock.rfc3339(Clock.nowMillis())
        try await saveRun(caller, run, decision: decision, action: "agent.run.interrupt")
        Counter(label: "cairn_agent_runs_total", dimensions: [("status", run.status.rawValue)]).increment()
        announceRun(caller, run, action: "agent.run.finish")
        return run
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
            try? await history.deleteBranch(caller, project: run.project, branch: run.branch)
        } else if try await protection(project).rule(for: run.target) != nil {
            let request = try await review.openMergeRequest(
                caller,
                project: run.project,
                source: run.branch,
                target: run.target,
                title: "agent run \(run.id) by \(run.agent)",
                description: run.calls.filter { !$0.commits.isEmpty }.map { "- \($0.tool): \($0.summary)" }.joined(separator: "\n")
            )
            run.status = .awaitingApproval
            run.mergeRequest = request.request.number
        } else {
            // Another run may merge into the target at the same moment: the merge is then tried
            // again on the target's new head, where real conflicts show as hunks.
            var attempt = 0
            while true {
                attempt += 1
                do {
                    switch try await history.merge(caller, project: run.project, source: run.branch, into: run.target) {
                    case .merged(let outcome, _):
                        run.status = .merged
                        run.mergeCommit = outcome.commit?.hex
                    case .conflicts(let conflicts, _, _, _):
                        run.status = .conflicts
                        run.message =
                            "conflicts with changes made meanwhile on \(run.target): " + conflicts.map(\.path).joined(separator: ", ")
                    }
                } catch let e as CairnError where e.code == .conflict && attempt < 5 {
                    continue
                } catch let e as CairnError {
                    run.status = .failed
                    run.message = e.message
                }
                break
            }
        }
        run.finished = Clock.rfc3339(Clock.nowMillis())
        try await saveRun(caller, run, decision: decision, action: "agent.run.finish")
        Counter(label: "cairn_agent_runs_total", dimensions: [("status", run.status.rawValue)]).increment()
        announceRun(caller, run, action: "agent.run.finish")
        return run
    }

    /// A run's record (needs `read` on its project).
    public func agentRun(_ caller: Caller, project name: String, id: String) async throws -> AgentRun {
        _ = try await open(caller, name, .read, action: "agent.run.read")
        let workflow = try await workflowProject(caller.organization)
        guard let (run, head) = try await workflowRecord(AgentRun.self, Workflow.agentRun(name, id), in: workflow) else {
            throw CairnError(.notFound, "no agent run '\(id)' in \(name)")
        }
        return try await withCalls(try await settled(caller, run), caller, workflow, at: head)
    }

    /// A run waiting for approval as its merge request stands now: `merged` (with the merge
    /// commit and the source head that merged) once a person merged it through any surface,
    /// `discarded` once it was closed or rejected. The new status is recorded, so every surface
    /// and every later read sees it.
    func settled(_ caller: Caller, _ run: AgentRun) async throws -> AgentRun {
        guard run.status == .awaitingApproval, let number = run.mergeRequest else { return run }
        let request = try await review.mergeRequest(caller, project: run.project, number: number).request
        var run = run
        switch request.state {
        case .open: return run
        case .merged:
            run.status = .merged
            run.mergeCommit = request.mergeCommit
            run.head = request.mergedHead ?? run.head
            run.message = "merged through merge request !\(number)"
        case .closed:
            run.status = .discarded
            run.message = "merge request !\(number) was closed\(request.closedBy.map { " by \($0)" } ?? ""): nothing reached \(run.target)"
        }
        var recorder = caller
        recorder.reason = "agent run \(run.id) follows merge request !\(number)"
        let (_, decision) = try await open(recorder, run.project, .read, branch: run.target, action: "agent.run.settle")
        try await saveRun(recorder, run, decision: decision, action: "agent.run.settle")
        Counter(label: "cairn_agent_runs_total", dimensions: [("status", run.status.rawValue)]).increment()
        return run
    }

    /// A run header with its calls: the rows of its history, and the files of calls recorded
    /// before calls were rows (read at a workflow commit). A call whose record cannot be decoded
    /// is an error, never left out: a history with a gap would lie by omission.
    func withCalls(_ header: AgentRun, _ caller: Caller, _ workflow: Project, at head: ObjectID) async throws -> AgentRun {
        var run = header
        var calls: [AgentRun.Call] = []
        func decode(_ bytes: [UInt8], _ place: String) throws -> AgentRun.Call {
            do {
                return try JSONDecoder().decode(AgentRun.Call.self, from: Data(bytes))
            } catch {
                throw CairnError(
                    .corrupt,
                    "the record of a call of run \(run.id) (\(place)) cannot be read: \(error)",
                    details: ["run": run.id]
                )
            }
        }
        var after: String?
        repeat {
            let page = try await workflow.glob(
                Workflow.agentRuns(run.project) + run.id + "/*/*.json",
                at: head.hex,
                limit: 1000,
                after: after
            )
            let contents = try await workflow.stage(at: head.hex).read(page.paths)
            for path in page.paths {
                if let bytes = contents[path] ?? nil { calls.append(try decode(bytes, path)) }
            }
            after = page.next
        } while after != nil
        let project = try await project(caller, run.project).record.id
        var seq: Int64 = 0
        while true {
            let rows = try await repository.storage.runCalls(project: project, run: run.id, afterSeq: seq, limit: 1000)
            for row in rows { calls.append(try decode(row.body, "call \(row.seq)")) }
            guard let last = rows.last, rows.count == 1000 else { break }
            seq = last.seq
        }
        run.calls = calls.sorted { $0.seq < $1.seq }
        return run
    }

    /// The project's runs, newest last, paginated.
    public func agentRuns(
        _ caller: Caller,
        project name: String,
        limit: Int = 50,
        cursor: String? = nil
    ) async throws -> (runs: [AgentRun], next: String?) {
        _ = try await open(caller, name, .read, action: "agent.run.list")
        let workflow = try await workflowProject(caller.organization)
        let head = try await workflow.resolve("main").commit
        let page = try await workflowPage(
            caller.organization,
            prefix: Workflow.agentRuns(name),
            limit: max(1, min(limit, 500)),
            cursor: cursor
        ) { (r: AgentRun) in
            try await self.withCalls(try await self.settled(caller, r), caller, workflow, at: head)
        }
        return (page.items, page.next)
    }

    /// Writes the run's header (its calls are files of their own).
    func saveRun(_ caller: Caller, _ run: AgentRun, decision: Decision, action: String) async throws {
        var header = run
        header.calls = []
        _ = try await updateWorkflow(
            caller,
            action: action,
            decision: decision,
            target: AccessTarget(project: run.project, branch: run.target),
            detail: ["run": run.id]
        ) { _, _ in
            ([.write(path: Workflow.agentRun(run.project, run.id), content: Workflow.encode(header))], ())
        }
    }

    /// Sortable by start: a millisecond timestamp, then randomness.
    public static func runID() -> String {
        let ms = String(Clock.nowMillis(), radix: 36)
        return String(repeating: "0", count: max(0, 9 - ms.count)) + ms + "-" + UUID().uuidString.prefix(8).lowercased()
    }

    /// The agent of a run as its credential stands now (its key's current role and scope), for
    /// replay: nil when the key is gone, revoked or expired (everything would now be refused).
    public func agentCaller(for run: AgentRun, organization: OrganizationRecord) async throws -> Caller? {
        guard let credential = run.credential, credential.hasPrefix("key:") else { return nil }
        let policy = try await policy(organization)
        guard let key = policy.config.keys[String(credential.dropFirst(4))], key.revokedAt == nil, key.subject == run.agent else {
            return nil
        }
        if let expires = key.expiresMillis, expires <= Clock.nowMillis() { return nil }
        let kind: ActorKind = key.kind == .agent ? .agent : key.kind == .service ? .service : .user
        let principal = Principal(
            subject: key.subject,
            kind: kind,
            credential: credential,
            key: key,
            onBehalfOf: key.kind == .user ? nil : key.createdBy
        )
        return Caller(principal: principal, organization: organization)
    }
}
