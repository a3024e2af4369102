import CairnCore
@_spi(StoreWrites) import CairnStore
import Foundation
import Metrics

/// The write path, top to bottom (DESIGN.md §4). Every change of every surface comes here:
///
/// 1. **authenticate**: `authenticate` (Gateway+Identity.swift) turned the credential into a
///    `Caller` before any of this; a long-lived session renews it before every action;
/// 2. **authorize**: `commit` asks `authorize` for each path it changes (and for every path a
///    glob delete matches); a denial is audited and refused, and a project the caller may not
///    read answers as absent;
/// 3. **validate**: paths, the reason an agent owes, derived files, configuration files; the
///    ontology is checked inside the store's transaction (`ontology.commitCheck`);
/// 4. **gate**: an organization that gates ontology changes queues them (`review.enqueue`); a
///    protected branch turns the write into a merge request (`review.writePolicy`,
///    `review.propose`);
/// 5. **commit with audit**: one transaction holds the commit, its audit record (`auditHook`)
///    and, for an agent's call, the call's record; a failure is audited on its own (`change`);
/// 6. **publish**: the change is announced on the organization's feed (`publish`).
extension Gateway {
    /// An atomic multi-file commit: every change is authorized on its own path before anything is
    /// written; one denial refuses the whole commit.
    @discardableResult
    public func commit(
        _ caller: Caller,
        project name: String,
        changes: [FileChange],
        branch: String = "main",
        basedOn: ObjectID? = nil,
        action: String = "commit"
    ) async throws -> CommitOutcome {
        try await commit(
            caller,
            project: name,
            changes: changes,
            branch: branch,
            basedOn: basedOn,
            action: action,
            acceptViolations: false,
            report: nil
        )
    }

    /// The commit path itself; `acceptViolations` and `report` serve an ontology change.
    func commit(
        _ caller: Caller,
        project name: String,
        changes: [FileChange],
        branch: String,
        basedOn: ObjectID?,
        action: String,
        acceptViolations: Bool,
        report: ReportBox?
    ) async throws -> CommitOutcome {
        guard !changes.isEmpty else { throw CairnError(.invalidArgument, "a commit needs at least one change") }
        try checkWritable(branch)
        var decision: Decision?
        var checks: [(Authority, String)] = []
        for change in changes {
            switch change {
            case .write(let path, _): checks.append((Self.authority(forChanging: path, .write), path))
            case .edit(let path, _, _, _): checks.append((Self.authority(forChanging: path, .write), path))
            case .delete(let target): checks.append((Self.authority(forChanging: target, .delete), target))
            }
        }
        for (authority, path) in checks {
            try checkPath(path)
            decision = try await authorize(
                caller,
                authority,
                AccessTarget(project: name, branch: branch, path: Glob.hasWildcards(path) ? nil : path),
                action: action
            )
        }
        let project = try await project(caller, name)
        // A glob delete is authorized on every path it matches, not only on the branch.
        for change in changes {
            guard case .delete(let target) = change, Glob.hasWildcards(target) else { continue }
            var cursor: String?
            repeat {
                let page = try await project.glob(target, at: branch, limit: 5000, after: cursor)
                for path in page.paths {
                    decision = try await authorize(
                        caller,
                        Self.authority(forChanging: path, .delete),
                        AccessTarget(project: name, branch: branch, path: path),
                        action: action
                    )
                }
                cursor = page.next
            } while cursor != nil
        }
        guard let decision else { throw CairnError(.invalidArgument, "a commit needs at least one change") }
        try requireReason(caller)
        try ontology.refuseDerived(changes)
        try review.validateConfiguration(changes)
        let target = AccessTarget(project: name, branch: branch)
        let gated: ApprovalSettings.Operation? =
            changes.contains(where: { Self.touchesOntology($0) })
            ? .ontology : changes.contains(where: { Self.touchesWorkflows($0) }) ? .workflow : nil
        if let gated, try await policy(caller.organization).config.approvals.gates(gated) {
            let base: ObjectID
            if let basedOn { base = basedOn } else { base = try await project.resolve(branch).commit }
            try await review.enqueue(
                caller,
                operation: gated,
                action: action,
                summary: "\(action) of the \(gated == .ontology ? "ontology" : "workflow definitions") of \(name) on \(branch)",
                project: name,
                branch: branch,
                changes: changes,
                base: base,
                decision: decision,
                detail: nil
            )
        }
        switch try await review.writePolicy(caller, project, branch: branch, decision: decision, action: action) {
        case .direct: break
        case .reject: throw CairnError(.branchProtected, "'\(branch)' is protected against direct writes", details: ["branch": branch])
        case .mergeRequest:
            return try await review.propose(
                caller,
                project,
                name: name,
                changes: changes,
                into: branch,
                basedOn: basedOn,
                action: action,
                decision: decision
            )
        }
        let outcome = try await change(caller, action: action, decision: decision, target: target) {
            try await project.commit(
                changes,
                branch: branch,
                basedOn: basedOn,
                metadata: metadata(caller, default: action),
                audit: auditHook(caller, action: action, decision: decision, target: target),
                check: ontology.commitCheck(acceptViolations: acceptViolations, report: report),
                companion: caller.call?.record
            )
        }
        publish(caller, project: name, action: action, outcome: outcome)
        return outcome
    }

    // MARK: Authorization

    /// Decides and, on a denial, audits it and throws the structured error. For a project the
    /// caller may not even read, the error is the same `project_not_found` a missing project
    /// gives, so nobody can probe for what they may not see.
    @discardableResult
    public func authorize(_ caller: Caller, _ authority: Authority, _ target: AccessTarget, action: String) async throws -> Decision {
        let policy = try await policy(for: caller)
        let decision = policy.decide(caller.principal, authority, target)
        decisions.increment()
        if policy.shadow != nil { await compareShadow(caller, policy, decision, action: action) }
        guard decision.allowed else {
            denials.increment()
            Counter(label: "cairn_denials_by_rule_total", dimensions: [("rule", Self.ruleKind(decision.rule))]).increment()
            await audit(
                caller,
                action: action,
                outcome: "denied",
                decision: decision,
                target: target,
                paths: target.path.map { [$0] },
                error: decision.error
            )
            if let project = target.project, !policy.decide(caller.principal, .read, AccessTarget(project: project)).allowed {
                throw Self.projectNotFound(project)
            }
            throw decision.error
        }
        return decision
    }

    /// A denial's rule without its ids (`grant`, `key-scope`, `org-ceiling`, …): a metric label
    /// of few values.
    static func ruleKind(_ rule: String) -> String { String(rule.prefix { $0 != ":" }) }

    static func projectNotFound(_ name: String) -> CairnError {
        CairnError(.projectNotFound, "no project named '\(name)'", details: ["project": name])
    }

    /// Authorizes then opens: the order matters, so a denied caller learns nothing about existence.
    package func open(
        _ caller: Caller,
        _ name: String,
        _ authority: Authority,
        branch: String? = nil,
        path: String? = nil,
        action: String
    ) async throws -> (Project, Decision) {
        let decision = try await authorize(caller, authority, AccessTarget(project: name, branch: branch, path: path), action: action)
        return (try await project(caller, name), decision)
    }

    // MARK: Audit

    /// Appends an audit record on its own (denials, failures, authentication failures).
    func audit(
        _ caller: Caller,
        action: String,
        outcome: String,
        decision: Decision?,
        target: AccessTarget,
        paths: [String]?,
        commit: ObjectID? = nil,
        error: CairnError? = nil,
        detail: [String: String]? = nil
    ) async {
        let record = makeRecord(
            caller,
            action: action,
            outcome: outcome,
            decision: decision,
            target: target,
            paths: paths,
            commit: commit,
            error: error,
            detail: detail
        )
        await append(record, organization: caller.organization.id)
    }

    func append(_ record: AuditRecord, organization: Int64) async {
        var batch = WriteBatch()
        batch.audit = [record.append(organization: organization)]
        do {
            try await storage.apply(batch)
        } catch {
            // The action itself was refused or failed; losing its audit line must not go unnoticed.
            logger.error("could not append an audit record", metadata: ["action": "\(record.action)", "error": "\(error)"])
        }
    }

    package func makeRecord(
        _ caller: Caller,
        action: String,
        outcome: String,
        decision: Decision?,
        target: AccessTarget,
        paths: [String]?,
        commit: ObjectID? = nil,
        error: CairnError? = nil,
        detail: [String: String]? = nil
    ) -> AuditRecord {
        AuditRecord(
            organization: caller.organization.name,
            actor: caller.principal.subject,
            actorKind: caller.principal.kind.rawValue,
            action: action,
            outcome: outcome,
            credential: caller.principal.credential,
            onBehalfOf: caller.principal.onBehalfOf,
            authority: decision?.authority.rawValue,
            project: target.project,
            branch: target.branch,
            paths: paths,
            rule: decision?.rule,
            configCommit: decision?.configCommit.hex,
            commit: commit?.hex,
            reason: caller.reason.map { Self.clip($0, 4096) },
            error: error.map { "\($0.code.rawValue): \(Self.clip($0.message, 1024))" },
            detail: detail
        )
    }

    /// The audit hook for a change: the record is completed with the commit and written in the
    /// commit's own transaction.
    package func auditHook(
        _ caller: Caller,
        action: String,
        decision: Decision,
        target: AccessTarget,
        detail: [String: String]? = nil
    ) -> AuditHook {
        let base = makeRecord(caller, action: action, outcome: "ok", decision: decision, target: target, paths: nil, detail: detail)
        let org = caller.organization.id
        return { outcome in
            var record = base
            record.commit = outcome.commit?.hex
            record.paths = outcome.changed.isEmpty ? nil : outcome.changed
            return record.append(organization: org)
        }
    }

    /// Runs a change, auditing its failure (the success is audited inside its own transaction).
    package func change<T: Sendable>(
        _ caller: Caller,
        action: String,
        decision: Decision,
        target: AccessTarget,
        _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch let error as CairnError {
            await audit(
                caller,
                action: action,
                outcome: "failed",
                decision: decision,
                target: target,
                paths: target.path.map { [$0] },
                error: error
            )
            throw error
        }
    }

    func metadata(_ caller: Caller, default message: String) -> CommitMetadata {
        CommitMetadata(
            author: caller.principal.subject,
            message: caller.reason ?? message,
            onBehalfOf: caller.principal.onBehalfOf,
            actorKind: caller.principal.kind,
            runID: caller.call?.run,
            step: caller.call?.step
        )
    }

    /// Agents must say why they change the world.
    func requireReason(_ caller: Caller) throws {
        if caller.principal.kind == .agent && (caller.reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw CairnError(
                .invalidArgument,
                "an agent must give a reason for every change (the 'message' field, or the X-Cairn-Reason header)"
            )
        }
    }

    package func publish(_ caller: Caller, project: String, action: String, outcome: CommitOutcome) {
        guard outcome.didChange else { return }
        if let commit = outcome.commit {
            Task { await self.review.announceVoidedApprovals(caller, project: project, branch: outcome.branch, commit: commit) }
        }
        feed.publish(
            organization: caller.organization.id,
            ChangeEvent(
                project: project,
                branch: outcome.branch,
                commit: outcome.commit?.hex,
                paths: outcome.changed,
                actor: caller.principal.subject,
                action: action,
                time: Clock.rfc3339(Clock.nowMillis())
            )
        )
    }

    /// Refuses writes to archived branches, which are read-only.
    func checkWritable(_ branch: String) throws {
        if Project.isArchived(branch) {
            throw CairnError(.branchArchived, "branch '\(branch)' is archived and read-only", details: ["branch": branch])
        }
    }

    func checkPath(_ path: String) throws {
        if path.utf8.count > limits.maxPathBytes {
            throw CairnError(
                .invalidPath,
                "a path may be at most \(limits.maxPathBytes) bytes",
                details: ["limit": String(limits.maxPathBytes)]
            )
        }
    }
}
