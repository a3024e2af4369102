import CairnCore
@_spi(StoreWrites) import CairnStore
import Foundation

/// The approval queue (DESIGN.md §4, "approval gate"): a sensitive operation the organization
/// gates is recorded as pending with its exact change and the state it was asked against; an
/// approver other than the requester approves or rejects it with a rationale; approved, it
/// applies at that state or fails.
extension ReviewArea {
    // MARK: Gating

    /// Records a pending operation and throws `ApprovalPending`: nothing is applied now.
    func enqueue(
        _ caller: Caller,
        operation: ApprovalSettings.Operation,
        action: String,
        summary: String,
        project: String?,
        branch: String,
        changes: [FileChange]?,
        base: ObjectID,
        decision: Decision,
        detail: [String: String]?
    ) async throws -> Never {
        if let changes {
            for change in changes {
                if case .edit(let path, _, _, _) = change {
                    throw CairnError(
                        .invalidArgument,
                        "a change that needs approval is stored exactly: write '\(path)' whole instead of editing it",
                        details: ["path": path]
                    )
                }
            }
        }
        let pending = try await newRequest(
            caller,
            operation: operation,
            action: action,
            summary: summary,
            project: project,
            branch: branch,
            changes: changes,
            base: base.hex,
            detail: detail
        )
        let id = pending.id
        let target = AccessTarget(project: project, branch: project == nil ? nil : branch)
        _ = try await core.updateWorkflow(
            caller,
            action: "approval.request",
            decision: decision,
            target: target,
            detail: (detail ?? [:]).merging(["approval": id, "operation": operation.rawValue, "for": action]) { a, _ in a }
        ) { _, _ in ([.write(path: Workflow.approval(id), content: Workflow.encode(pending))], ()) }
        core.announce(caller, project: project ?? Tenancy.systemProject, branch: branch, action: "approval.requested", approval: id)
        throw ApprovalPending(approval: pending)
    }

    /// A workflow run's approval step: recorded as pending (with the branch holding the run's
    /// changes so far, to be reviewed as a diff from `base`), decided by a person with `approve`
    /// on the target other than the workflow's enabler; nothing is applied when it is approved,
    /// the run continues.
    public func requestStepApproval(
        _ caller: Caller,
        project: String,
        target: String,
        runBranch: String,
        base: String,
        summary: String,
        detail: [String: String],
        expires: String
    ) async throws -> PendingApproval {
        let decision = try await core.authorize(caller, .read, AccessTarget(project: project, branch: target), action: "approval.request")
        var pending = try await newRequest(
            caller,
            operation: .workflowStep,
            action: "workflow.step",
            summary: summary,
            project: project,
            branch: target,
            changes: nil,
            base: base,
            detail: detail.merging(["runBranch": runBranch, "diff": "\(base)..\(runBranch)"]) { a, _ in a }
        )
        pending.expires = expires
        let id = pending.id
        let record = pending
        _ = try await core.updateWorkflow(
            caller,
            action: "approval.request",
            decision: decision,
            target: AccessTarget(project: project, branch: target),
            detail: ["approval": id, "operation": "workflow.step"]
        ) { _, _ in ([.write(path: Workflow.approval(id), content: Workflow.encode(record))], ()) }
        core.announce(caller, project: project, branch: target, action: "approval.requested", approval: id)
        return pending
    }

    /// Ends an undecided request whose time ran out (`failed`, saying so); nil if it was decided meanwhile.
    public func expireApproval(_ caller: Caller, id: String) async throws -> PendingApproval? {
        let decision = try await core.authorize(caller, .read, .organization, action: "approval.expire")
        let item = try await saveApproval(caller, id: id, action: "approval.expired", decision: decision, detail: [:]) { r in
            guard r.state == .pending else { return }
            r.state = .failed
            r.error = "expired: nobody decided it before \(r.expires ?? "its deadline")"
        }
        return item.state == .failed ? item : nil
    }

    /// A queued request as the engine reads it (no caller's visibility applies).
    public func pendingApproval(_ org: OrganizationRecord, id: String) async throws -> PendingApproval? {
        guard id.count == 16, id.allSatisfy(\.isHexDigit) else { return nil }
        return try await core.workflowRecord(PendingApproval.self, Workflow.approval(id), in: try await core.workflowProject(org))?.0
    }

    /// A new pending request by the caller, needing the organization's number of approvals.
    func newRequest(
        _ caller: Caller,
        operation: ApprovalSettings.Operation,
        action: String,
        summary: String,
        project: String?,
        branch: String,
        changes: [FileChange]?,
        base: String,
        detail: [String: String]?
    ) async throws -> PendingApproval {
        let settings = try await core.policy(caller.organization).config.approvals
        let now = Clock.rfc3339(Clock.nowMillis())
        return PendingApproval(
            id: Hex.random(bytes: 8),
            operation: operation,
            action: action,
            summary: summary,
            project: project,
            branch: branch,
            changes: changes?.map(PendingApproval.Change.init),
            base: base,
            requester: caller.principal.subject,
            requesterKind: caller.principal.kind.rawValue,
            onBehalfOf: caller.principal.onBehalfOf,
            reason: caller.reason,
            detail: detail,
            created: now,
            requiredApprovals: settings.requiredApprovals,
            state: .pending,
            decisions: [],
            commit: nil,
            error: nil,
            updated: now
        )
    }

    // MARK: Reading

    /// A page of the approval queue.
    public struct ApprovalPage: Sendable, Codable {
        public let approvals: [PendingApproval]
        public let next: String?
    }

    /// The queue as the caller may see it: what they asked for, and what they may decide.
    public func approvals(
        _ caller: Caller,
        state: PendingApproval.State? = nil,
        limit: Int = 50,
        cursor: String? = nil
    ) async throws -> ApprovalPage {
        guard (1...500).contains(limit) else { throw CairnError(.invalidArgument, "limit must be 1 to 500") }
        try await core.authorize(caller, .read, .organization, action: "approval.list")
        let policy = try await core.policy(for: caller)
        let (out, next) = try await core.workflowPage(caller.organization, prefix: Workflow.approvals, limit: limit, cursor: cursor) {
            (item: PendingApproval) -> PendingApproval? in
            if let state, item.state != state { return nil }
            guard item.requester == caller.principal.subject || policy.decide(caller.principal, .approve, Self.approvalTarget(item)).allowed
            else { return nil }
            return item
        }
        return ApprovalPage(approvals: out, next: next)
    }

    /// One queued request, with what it would change.
    public func approval(_ caller: Caller, id: String) async throws -> PendingApproval {
        let item = try await loadApproval(caller, id: id)
        let policy = try await core.policy(for: caller)
        guard item.requester == caller.principal.subject || policy.decide(caller.principal, .approve, Self.approvalTarget(item)).allowed
        else {
            throw CairnError(.notFound, "no approval request '\(id)'", details: ["approval": id])
        }
        return item
    }

    // MARK: Deciding

    /// Approve or reject, with a rationale. Needs `approve` where the operation acts; never by
    /// the requester, nor by an agent. When enough approvals are in, the change applies, at
    /// the state it was asked against, or the request fails as `stale`.
    public func decideApproval(_ caller: Caller, id: String, approve: Bool, rationale: String) async throws -> PendingApproval {
        let why = rationale.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !why.isEmpty, why.utf8.count <= 65536 else {
            throw CairnError(.invalidArgument, "a decision needs a rationale (1 byte to 64 KiB)")
        }
        let item = try await loadApproval(caller, id: id)
        let target = Self.approvalTarget(item)
        let decision = try await core.authorize(caller, .approve, target, action: "approval.decide")
        guard item.state == .pending else {
            throw CairnError(
                .conflict,
                "approval request '\(id)' is already \(item.state.rawValue)",
                details: ["approval": id, "state": item.state.rawValue]
            )
        }
        if let expires = item.expires.flatMap(Clock.parseRFC3339), expires <= Clock.nowMillis() {
            throw CairnError(.conflict, "approval request '\(id)' expired at \(item.expires ?? "")", details: ["approval": id])
        }
        let enabler = item.operation == .workflowStep && caller.principal.subject == item.onBehalfOf
        if caller.principal.subject == item.requester || caller.principal.kind == .agent || enabler {
            let error = CairnError(
                .selfApproval,
                caller.principal.kind == .agent
                    ? "an agent cannot decide an approval request: a person signs off"
                    : enabler
                        ? "\(caller.principal.subject) enabled the workflow asking for this and cannot approve it; another approver must"
                        : "\(item.requester) asked for this change and cannot approve it; another approver must",
                details: ["approval": id]
            )
            await core.audit(
                caller,
                action: "approval.decide",
                outcome: "denied",
                decision: decision,
                target: target,
                paths: nil,
                error: error,
                detail: ["approval": id]
            )
            throw error
        }
        if item.decisions.contains(where: { $0.approver == caller.principal.subject && $0.verdict == "approve" }) {
            throw CairnError(.conflict, "you already approved '\(id)'", details: ["approval": id])
        }
        let now = Clock.rfc3339(Clock.nowMillis())
        let entry = PendingApproval.Decision(
            id: Hex.random(bytes: 32),
            approver: caller.principal.subject,
            verdict: approve ? "approve" : "reject",
            rationale: why,
            time: now
        )
        var updated = try await saveApproval(
            caller,
            id: id,
            action: approve ? "approval.approve" : "approval.reject",
            decision: decision,
            detail: ["requester": item.requester, "rationale": why, "for": item.action]
        ) { r in
            guard r.state == .pending else {
                throw CairnError(.conflict, "approval request '\(id)' is already \(r.state.rawValue)", details: ["approval": id])
            }
            r.decisions.append(entry)
            if !approve { r.state = .rejected }
        }
        core.announce(
            caller,
            project: item.project ?? Tenancy.systemProject,
            branch: item.branch,
            action: approve ? "approval.approved" : "approval.rejected",
            approval: id
        )
        let approvals = updated.decisions.filter { $0.verdict == "approve" }
        guard approve, approvals.count >= updated.requiredApprovals else { return updated }

        // Enough approvals: apply exactly what was asked, at the state it was asked against.
        var commit: String?
        var failure: CairnError?
        do {
            commit = try await apply(caller, updated, approvals: approvals, decision: decision, rationale: why)
        } catch let e as CairnError {
            failure =
                e.code == .conflict || e.code == .stale
                ? CairnError(
                    .stale,
                    "the state this change was asked against has moved: \(e.message)",
                    details: e.details.merging(["approval": id]) { a, _ in a }
                )
                : e
        }
        updated = try await saveApproval(
            caller,
            id: id,
            action: failure == nil ? "approval.applied" : "approval.failed",
            decision: decision,
            detail: ["requester": item.requester, "commit": commit ?? "", "error": failure?.message ?? ""].filter { !$0.value.isEmpty }
        ) { r in
            r.state = failure == nil ? .applied : .failed
            r.commit = commit
            r.error = failure.map { "\($0.code.rawValue): \($0.message)" }
        }
        core.announce(
            caller,
            project: item.project ?? Tenancy.systemProject,
            branch: item.branch,
            action: failure == nil ? "approval.applied" : "approval.failed",
            commit: commit,
            approval: id
        )
        return updated
    }

    /// Applies an approved request; returns the resulting commit (or the deleted branch's head).
    private func apply(
        _ caller: Caller,
        _ item: PendingApproval,
        approvals: [PendingApproval.Decision],
        decision: Decision,
        rationale: String
    ) async throws -> String? {
        guard let base = ObjectID(hex: item.base) else { throw CairnError(.corrupt, "approval request '\(item.id)' has no valid base") }
        let detail = [
            "approval": item.id, "requester": item.requester, "approvers": approvals.map(\.approver).joined(separator: ","),
            "rationale": rationale,
        ]
        .merging(item.detail ?? [:]) { a, _ in a }
        let target = AccessTarget(project: item.project, branch: item.project == nil ? nil : item.branch)
        var meta = CommitMetadata(
            author: item.requester,
            message: item.reason ?? item.summary,
            onBehalfOf: item.onBehalfOf,
            actorKind: ActorKind(rawValue: item.requesterKind) ?? .user
        )
        meta.approvals = approvals.compactMap { ObjectID(hex: $0.id) }
        let hook = core.auditHook(caller, action: item.action, decision: decision, target: target, detail: detail)
        if item.operation == .workflowStep {
            // Nothing to apply: the workflow run continues (its engine sees the approval).
            return nil
        }
        if item.operation == .branchDelete {
            let project = try await core.repository.project(item.project ?? "", organization: caller.organization.id)
            try await project.deleteBranch(item.branch, expected: base, principal: item.requester, audit: hook)
            return base.hex
        }
        let changes = (item.changes ?? []).compactMap(\.fileChange)
        guard !changes.isEmpty, changes.count == item.changes?.count else {
            throw CairnError(.corrupt, "approval request '\(item.id)' has no change to apply")
        }
        let project: Project
        if let name = item.project {
            project = try await core.repository.project(name, organization: caller.organization.id)
        } else {
            project = try await core.systemProject(caller.organization)
        }
        // A project's changes pass the ontology like any other; the organization's access files have none.
        let outcome = try await project.commit(
            changes,
            branch: item.branch,
            basedOn: base,
            metadata: meta,
            audit: hook,
            check: item.project == nil ? nil : core.ontology.commitCheck()
        )
        if let name = item.project { core.publish(caller, project: name, action: item.action, outcome: outcome) }
        return outcome.commit?.hex ?? outcome.head.hex
    }

    // MARK: Helpers

    static func approvalTarget(_ item: PendingApproval) -> AccessTarget {
        switch item.operation {
        case .access, .share: .organization
        case .branchDelete, .ontology, .workflow, .workflowStep: AccessTarget(project: item.project, branch: item.branch)
        }
    }

    func loadApproval(_ caller: Caller, id: String) async throws -> PendingApproval {
        guard id.count == 16, id.allSatisfy(\.isHexDigit),
            let (item, _) = try await core.workflowRecord(
                PendingApproval.self,
                Workflow.approval(id),
                in: try await core.workflowProject(caller.organization)
            )
        else { throw CairnError(.notFound, "no approval request '\(id)'", details: ["approval": id]) }
        return item
    }

    func saveApproval(
        _ caller: Caller,
        id: String,
        action: String,
        decision: Decision,
        detail: [String: String],
        _ change: @escaping (inout PendingApproval) throws -> Void
    ) async throws -> PendingApproval {
        let path = Workflow.approval(id)
        let target = AccessTarget.organization
        return try await core.updateWorkflow(
            caller,
            action: action,
            decision: decision,
            target: target,
            detail: detail.merging(["approval": id]) { a, _ in a }
        ) { workflow, _ in
            guard var item = try await core.workflowRecord(PendingApproval.self, path, in: workflow)?.0 else {
                throw CairnError(.notFound, "no approval request '\(id)'", details: ["approval": id])
            }
            try change(&item)
            item.updated = Clock.rfc3339(Clock.nowMillis())
            return ([.write(path: path, content: Workflow.encode(item))], item)
        }.0
    }
}
