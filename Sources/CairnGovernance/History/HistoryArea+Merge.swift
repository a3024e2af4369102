import CairnCore
@_spi(StoreWrites) import CairnStore

extension HistoryArea {
    /// Merges branch `source` into `target` directly. A protected target takes merges only
    /// through an approved merge request (`mergeMergeRequest`).
    public func merge(
        _ caller: Caller,
        project name: String,
        source: String,
        into target: String,
        resolutions: [String: [String: MergeResolution]] = [:]
    ) async throws -> MergeOutcome {
        let (project, decision) = try await core.open(caller, name, .write, branch: target, action: "branch.merge")
        if try await core.protection(project).rule(for: target) != nil {
            let error = CairnError(
                .branchProtected,
                "'\(target)' is protected: open a merge request from '\(source)' and have it approved",
                details: ["branch": target, "source": source]
            )
            await core.audit(
                caller,
                action: "branch.merge",
                outcome: "refused",
                decision: decision,
                target: AccessTarget(project: name, branch: target),
                paths: nil,
                error: error
            )
            throw error
        }
        return try await performMerge(
            caller,
            project: name,
            source: source,
            into: target,
            resolutions: resolutions,
            message: "merge \(source) into \(target)"
        )
    }

    /// The merge itself. Reading the source and writing the target are authorized, then every
    /// path the merge would change, as for any write; a merge with unresolved hunks writes
    /// nothing and returns them (and is audited as `conflicts`).
    func performMerge(
        _ caller: Caller,
        project name: String,
        source: String,
        into target: String,
        sourceHead: ObjectID? = nil,
        resolutions: [String: [String: MergeResolution]],
        message: String,
        approvals: [ObjectID] = [],
        action: String = "branch.merge",
        detail extra: [String: String] = [:]
    ) async throws -> MergeOutcome {
        try core.checkWritable(target)
        _ = try await core.authorize(caller, .read, AccessTarget(project: name, branch: source), action: action)
        var (project, decision) = try await core.open(caller, name, .write, branch: target, action: action)
        let plan = try await project.planMerge(source: source, into: target, sourceHead: sourceHead, resolutions: resolutions)
        for edit in plan.edits {
            let path = String(decoding: edit.key, as: UTF8.self)
            decision = try await core.authorize(
                caller,
                Gateway.authority(forChanging: path, edit.value == nil ? .delete : .write),
                AccessTarget(project: name, branch: target, path: path),
                action: action
            )
        }
        let where_ = AccessTarget(project: name, branch: target)
        let detail = extra.merging(["source": source, "base": plan.base.hex, "theirs": plan.theirs.hex]) { a, _ in a }
        if !plan.conflicts.isEmpty {
            await core.audit(
                caller,
                action: action,
                outcome: "conflicts",
                decision: decision,
                target: where_,
                paths: plan.conflicts.map(\.path),
                detail: detail
            )
            return .conflicts(plan.conflicts, base: plan.base, ours: plan.ours, theirs: plan.theirs)
        }
        try core.requireReason(caller)
        var meta = core.metadata(caller, default: message)
        meta.approvals = approvals
        let outcome = try await core.change(caller, action: action, decision: decision, target: where_) { [meta, decision] in
            try await project.commitMerge(
                plan,
                metadata: meta,
                audit: core.auditHook(caller, action: action, decision: decision, target: where_, detail: detail),
                check: core.ontology.commitCheck()
            )
        }
        if case .merged(let out, _) = outcome, out.commit != nil { core.publish(caller, project: name, action: action, outcome: out) }
        return outcome
    }
}
