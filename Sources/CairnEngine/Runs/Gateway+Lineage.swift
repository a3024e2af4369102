import CairnCore
import CairnGovernance
import CairnStore
import Foundation

/// Where a value came from: the commit that set it, and, when an agent set it, the run and tool
/// call that did, what the run had read before, and the merge request (with its reviews) that
/// admitted it.
public struct Lineage: Sendable, Codable, Equatable {
    public let path: String
    public let pointer: String
    public let value: JSONValue
    public let commit: String
    public let author: String
    public let time: String
    public let message: String
    public let run: String?
    public let agent: String?
    public let onBehalfOf: String?
    public let call: AgentRun.Call?
    /// What the run's earlier calls read, in order: what the change was based on.
    public let readBefore: [RunInput]
    public let mergeRequest: MergeRequest?
    /// When a workflow's run made it: the workflow, its run, what fired it and the step.
    public var workflow: WorkflowLink? = nil
}

/// A value's way back to the workflow behind it.
public struct WorkflowLink: Sendable, Codable, Equatable {
    public let workflow: String
    public let run: String
    public let trigger: WorkflowRun.Trigger
    public let step: String?
}

extension Gateway {
    /// The lineage of the value at `pointer` in a JSON file at `ref` (needs `read` of the file).
    public func lineage(
        _ caller: Caller,
        project name: String,
        path: String,
        pointer: String,
        at ref: String = "main"
    ) async throws -> Lineage {
        let entries = try await history.blame(caller, project: name, path: path, at: ref)
        // The value itself, or the nearest enclosing one that blame tracks.
        let entry =
            entries.first { $0.pointer == pointer }
            ?? entries.filter { pointer.hasPrefix($0.pointer + "/") || $0.pointer.isEmpty }.max { $0.pointer.count < $1.pointer.count }
        guard let entry else {
            throw CairnError(.notFound, "no value at \(pointer) in \(path) at \(ref)", details: ["path": path, "pointer": pointer])
        }
        // The run and call that made that commit, if an agent made it: the commit names them.
        let (project, _) = try await open(caller, name, .read, path: path, action: "lineage.read")
        let info = try await project.commitInfo(entry.commit)
        var found: (AgentRun, AgentRun.Call)?
        if let runID = info.runID, let step = info.step {
            let run = try await agentRun(caller, project: name, id: runID)
            guard let call = run.calls.first(where: { $0.seq == step }) else {
                throw CairnError(
                    .corrupt,
                    "commit \(entry.commit.short) names call \(step) of run \(runID), which its record lacks",
                    details: ["run": runID, "step": String(step)]
                )
            }
            found = (run, call)
        }
        var request: MergeRequest?
        if let number = found?.0.mergeRequest { request = try await review.mergeRequest(caller, project: name, number: number).request }
        if request == nil { request = try await admitting(entry.commit, caller, project: name, in: project) }
        let reads = found.map { run, call in run.calls.filter { $0.seq < call.seq }.flatMap(\.reads) } ?? []
        var link: WorkflowLink?
        if let (run, call) = found, let (workflow, id) = run.workflowRun,
            let (record, _) = try await workflowRecord(
                WorkflowRun.self,
                Workflow.workflowRun(name, workflow, id),
                in: try await workflowProject(caller.organization)
            )
        {
            // The step is the one whose calls include this call of this engine run (the last
            // engine run of a workflow run holds the calls made after its approval steps).
            let step = record.run == run.id ? record.steps.last { $0.calls.contains(call.seq) }?.id : nil
            link = WorkflowLink(workflow: workflow, run: id, trigger: record.trigger, step: step)
        }
        var lineage = Lineage(
            path: path,
            pointer: entry.pointer,
            value: entry.value,
            commit: entry.commit.hex,
            author: entry.author,
            time: entry.time,
            message: entry.message,
            run: found?.0.id,
            agent: found?.0.agent,
            onBehalfOf: found?.0.onBehalfOf,
            call: found?.1,
            readBefore: reads,
            mergeRequest: request
        )
        lineage.workflow = link
        return lineage
    }

    /// The merged request that brought `commit` in, when a person's commit on a branch reached the
    /// target through review: the commit is in what was merged (an ancestor of its merged head)
    /// and was not on the target already (not an ancestor of its merge base). The most recent
    /// hundred merged requests are looked at.
    private func admitting(_ commit: ObjectID, _ caller: Caller, project name: String, in project: Project) async throws -> MergeRequest? {
        let merged = try await review.mergeRequests(caller, project: name, state: .merged, limit: 100)
        for view in merged.mergeRequests {
            let r = view.request
            guard let head = r.mergedHead.flatMap(ObjectID.init(hex:)), let base = r.mergeBase.flatMap(ObjectID.init(hex:)) else {
                continue
            }
            guard try await project.mergeBase(commit, head) == commit else { continue }
            if try await project.mergeBase(commit, base) == commit { continue }
            return r
        }
        return nil
    }
}
