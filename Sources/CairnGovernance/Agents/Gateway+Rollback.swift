import CairnCore
import CairnStore
import Foundation

extension Gateway {
    /// Undoes a run. Merged: every file the run changed is put back as it was at the run's base,
    /// in one governed commit on the target (refused with `conflict`, naming the files, if any
    /// of them changed on the target since the run). Not merged: its branch is discarded and any
    /// merge request for it closed. Either way the run is marked `rolled_back`.
    public func rollbackAgentRun(_ caller: Caller, project name: String, id: String) async throws -> AgentRun {
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
            var changes: [FileChange] = [], moved: [String] = []
            var after: String?
            repeat {
                let page = try await project.diff(from: run.base, to: head, json: false, limit: 1000, after: after)
                for file in page.files {
                    let now = try await blob(project, file.path, at: target.hex)
                    if now != file.after { moved.append(file.path) }
                    if file.before != nil {
                        let (_, _, bytes) = try await project.readBytes(file.path, at: run.base)
                        changes.append(.write(path: file.path, content: bytes))
                    } else {
                        changes.append(.delete(file.path))
                    }
                }
                after = page.next
            } while after != nil
            guard moved.isEmpty else {
                throw CairnError(.conflict, "files the run changed have changed on \(run.target) since: \(moved.prefix(20).joined(separator: ", "))", details: ["files": moved.joined(separator: ",")])
            }
            var undoer = caller
            undoer.reason = caller.reason ?? "roll back agent run \(id)"
            if !changes.isEmpty {
                let outcome = try await commit(undoer, project: name, changes: changes, branch: run.target, basedOn: target, action: "agent.run.rollback")
                run.rollbackCommit = outcome.commit?.hex
            }
        default:
            if let number = run.mergeRequest { _ = try? await closeMergeRequest(caller, project: name, number: number) }
            try? await deleteBranch(caller, project: name, branch: run.branch)
        }
        run.status = .rolledBack
        try await saveRun(caller, run, decision: decision, action: "agent.run.rollback")
        return run
    }

    /// A path's blob at a commit (nil: absent).
    func blob(_ project: Project, _ path: String, at ref: String) async throws -> ObjectID? {
        do {
            return try await project.readBytes(path, at: ref).1
        } catch let e as CairnError where e.code == .notFound {
            return nil
        }
    }
}
