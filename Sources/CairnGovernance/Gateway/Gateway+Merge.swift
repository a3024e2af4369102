import CairnCore
import CairnStore

extension Gateway {
    /// Merges branch `source` into `target` (issue 4). Reading the source and writing the
    /// target are authorized, then every path the merge would change, as for any write; a merge
    /// with unresolved hunks writes nothing and returns them (and is audited as `conflicts`).
    public func merge(
        _ caller: Caller, project name: String, source: String, into target: String, resolutions: [String: [String: MergeResolution]] = [:]
    ) async throws -> MergeOutcome {
        _ = try await authorize(caller, .read, AccessTarget(project: name, branch: source), action: "branch.merge")
        var (project, decision) = try await open(caller, name, .write, branch: target, action: "branch.merge")
        let plan = try await project.planMerge(source: source, into: target, resolutions: resolutions)
        for edit in plan.edits {
            let path = String(decoding: edit.key, as: UTF8.self)
            decision = try await authorize(
                caller, Self.authority(forChanging: path, edit.value == nil ? .delete : .write), AccessTarget(project: name, branch: target, path: path),
                action: "branch.merge")
        }
        let where_ = AccessTarget(project: name, branch: target)
        let detail = ["source": source, "base": plan.base.hex, "theirs": plan.theirs.hex]
        if !plan.conflicts.isEmpty {
            await audit(caller, action: "branch.merge", outcome: "conflicts", decision: decision, target: where_, paths: plan.conflicts.map(\.path), detail: detail)
            return .conflicts(plan.conflicts, base: plan.base, ours: plan.ours, theirs: plan.theirs)
        }
        try requireReason(caller)
        let outcome = try await change(caller, action: "branch.merge", decision: decision, target: where_) {
            try await project.commitMerge(
                plan, metadata: metadata(caller, default: "merge \(source) into \(target)"),
                audit: auditHook(caller, action: "branch.merge", decision: decision, target: where_, detail: detail))
        }
        if case .merged(let out, _) = outcome, out.commit != nil { publish(caller, project: name, action: "branch.merge", outcome: out) }
        return outcome
    }
}
