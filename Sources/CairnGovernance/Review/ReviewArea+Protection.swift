import CairnCore
@_spi(StoreWrites) import CairnStore
import Foundation

/// Branch protection on the write path: what a write to a protected branch becomes.
extension ReviewArea {
    /// What the protection of `branch` makes of a change by this caller; a refusal is audited.
    func writePolicy(
        _ caller: Caller,
        _ project: Project,
        branch: String,
        decision: Decision,
        action: String
    ) async throws -> ProtectionConfig.WritePolicy {
        let policy = try await core.protection(project).writePolicy(for: branch, kind: caller.principal.kind)
        if policy == .reject {
            await core.audit(
                caller,
                action: action,
                outcome: "refused",
                decision: decision,
                target: AccessTarget(project: project.record.name, branch: branch),
                paths: nil,
                error: CairnError(.branchProtected, "'\(branch)' is protected against direct writes")
            )
        }
        return policy
    }

    /// A protected branch's write turned into a merge request: the change is committed to a new
    /// proposal branch made from what the writer saw (`basedOn`, or the branch head), and a
    /// request to merge it is opened. Nothing reaches the protected branch until it is approved.
    func propose(
        _ caller: Caller,
        _ project: Project,
        name: String,
        changes: [FileChange],
        into branch: String,
        basedOn: ObjectID?,
        action: String,
        decision: Decision
    ) async throws -> CommitOutcome {
        let stamp = Clock.rfc3339(Clock.nowMillis()).filter(\.isNumber).prefix(14)
        let proposal = "proposals/\(stamp)-\(Hex.random(bytes: 4))"
        let where_ = AccessTarget(project: name, branch: proposal)
        _ = try await core.change(caller, action: "branch.create", decision: decision, target: where_) {
            try await project.createBranch(
                proposal,
                from: basedOn?.hex ?? branch,
                principal: caller.principal.subject,
                audit: core.auditHook(
                    caller,
                    action: "branch.create",
                    decision: decision,
                    target: where_,
                    detail: ["from": branch, "for": "proposal"]
                )
            )
        }
        var outcome: CommitOutcome
        do {
            outcome = try await core.change(caller, action: action, decision: decision, target: where_) {
                try await project.commit(
                    changes,
                    branch: proposal,
                    metadata: core.metadata(caller, default: action),
                    audit: core.auditHook(caller, action: action, decision: decision, target: where_, detail: ["proposedFor": branch]),
                    check: core.ontology.commitCheck(),
                    companion: caller.call?.record
                )
            }
        } catch {
            // The proposal never held a change (refused, or invalid): it goes, so no empty branch is left behind.
            try? await project.deleteBranch(
                proposal,
                principal: caller.principal.subject,
                audit: core.auditHook(
                    caller,
                    action: "branch.delete",
                    decision: decision,
                    target: where_,
                    detail: ["why": "the proposed change was refused"]
                )
            )
            throw error
        }
        let summary = (caller.reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let request: MergeRequestView
        do {
            request = try await openMergeRequest(
                caller,
                project: name,
                source: proposal,
                target: branch,
                title: String((summary.isEmpty ? "\(action) by \(caller.principal.subject)" : summary).prefix(300)),
                description:
                    "Proposed by \(caller.principal.subject)\(caller.principal.onBehalfOf.map { " on behalf of \($0)" } ?? ""): "
                    + "'\(branch)' is protected, so this write waits for review.",
                origin: "write"
            )
        } catch {
            // Without its merge request the proposal would be a branch nobody reviews: it goes too.
            try? await project.deleteBranch(
                proposal,
                principal: caller.principal.subject,
                audit: core.auditHook(
                    caller,
                    action: "branch.delete",
                    decision: decision,
                    target: where_,
                    detail: ["why": "its merge request could not be opened"]
                )
            )
            throw error
        }
        core.publish(caller, project: name, action: action, outcome: outcome)
        outcome.mergeRequest = request.request.number
        return outcome
    }

    /// Configuration files are checked when written, so a bad one is refused, not skipped later.
    func validateConfiguration(_ changes: [FileChange]) throws {
        for change in changes {
            if case .write(let path, let content) = change, path == ProtectionConfig.path {
                _ = try ProtectionConfig.parse(content)
            }
        }
    }
}
