import CairnCore
import CairnGovernance
import CairnStore
import Foundation

extension Gateway {
    /// Undoes a run. Merged: every file the run changed is put back as it was at the run's base,
    /// in one governed commit on the target (refused with `conflict`, naming the files, if any
    /// of them changed on the target since the run). Not merged: its branch is discarded and any
    /// merge request for it closed. Either way the run is marked `rolled_back`.
    public func rollbackAgentRun(_ caller: Caller, project name: String, id: String) async throws -> AgentRun {
        // (Read settled: a run merged through its merge request is `merged`, its changes on the target.)
        var run = try await agentRun(caller, project: name, id: id)
        let (project, decision) = try await open(caller, name, .write, branch: run.target, action: "agent.run.rollback")
        switch run.status {
        case .rolledBack:
            throw CairnError(.conflict, "run \(id) is already rolled back")
        case .running:
            throw CairnError(.conflict, "run \(id) is still running: end its session first")
        case .merged:
            guard let head = run.head else { throw CairnError(.conflict, "run \(id) has no recorded head to roll back") }
            let target = try await project.resolve(run.target).commit
            // Blob ids come from the trees (no file is read to learn one); the base's contents
            // of the files to restore are read in one batch per page.
            let now = try await project.stage(at: target.hex)
            let before = try await project.stage(at: run.base)
            var changes: [FileChange] = []
            var moved: [String] = []
            var after: String?
            repeat {
                let page = try await project.diff(from: run.base, to: head, json: false, limit: 1000, after: after)
                for file in page.files where try await now.blob(file.path) != file.after { moved.append(file.path) }
                let restore = page.files.filter { $0.before != nil }.map(\.path)
                let contents = try await before.read(restore)
                for file in page.files {
                    if file.before != nil, let bytes = contents[file.path] ?? nil {
                        changes.append(.write(path: file.path, content: bytes))
                    } else {
                        changes.append(.delete(file.path))
                    }
                }
                after = page.next
            } while after != nil
            guard moved.isEmpty else {
                throw CairnError(
                    .conflict,
                    "files the run changed have changed on \(run.target) since: \(moved.prefix(20).joined(separator: ", "))",
                    details: ["files": moved.joined(separator: ",")]
                )
            }
            var undoer = caller
            undoer.reason = caller.reason ?? "roll back agent run \(id)"
            if !changes.isEmpty {
                let outcome = try await commit(
                    undoer,
                    project: name,
                    changes: changes,
                    branch: run.target,
                    basedOn: target,
                    action: "agent.run.rollback"
                )
                run.rollbackCommit = outcome.commit?.hex
            }
        case .discarded:
            throw CairnError(.conflict, "run \(id) was discarded (its merge request closed): nothing of it reached \(run.target)")
        default:
            // Never merged: its merge request (if still open) is closed and its branch goes.
            if run.status == .awaitingApproval, let number = run.mergeRequest {
                _ = try await review.closeMergeRequest(caller, project: name, number: number)
            }
            do {
                try await history.deleteBranch(caller, project: name, branch: run.branch)
            } catch let e as CairnError where e.code == .unknownRef {
                // Already gone (a run with no changes deletes its own): nothing to discard.
            }
        }
        run.status = .rolledBack
        try await saveRun(caller, run, decision: decision, action: "agent.run.rollback")
        return run
    }
}
