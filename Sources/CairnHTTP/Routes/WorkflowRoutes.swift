import CairnCore
import CairnEngine
import CairnGovernance
import CairnStore
import Foundation
import Hummingbird

struct WorkflowBody: Decodable {
    let definition: JSONValue
    let branch: String?
    let message: String?
}

struct WorkflowActionBody: Decodable {
    let message: String?
}

struct WorkflowRunBody: Decodable {
    let inputs: [String: JSONValue]?
    let message: String?
}

struct WorkflowPage: Encodable {
    let workflows: [Workflows.Summary]
    let next: String?
}

struct WorkflowRunPage: Encodable {
    let runs: [WorkflowRun]
    let next: String?
}

/// Workflows: their definitions, enabling them, starting and following their runs.
extension Routes {
    func registerWorkflows(on org: RouterGroup<Context>) {
        let w = org.group("/projects/:project/workflows")
        w.get("") { req, ctx in
            let q = Query(request: req)
            let page = try await workflows.list(
                try ctx.caller,
                project: try ctx.parameters.require("project"),
                limit: try q.int("limit", default: 100, range: 1...1000),
                cursor: q.string("cursor")
            )
            return JSON.response(WorkflowPage(workflows: page.workflows, next: page.next))
        }
        w.get("/:name") { req, ctx in
            JSON.response(
                try await workflows.show(
                    try ctx.caller,
                    project: try ctx.parameters.require("project"),
                    name: try ctx.parameters.require("name")
                )
            )
        }
        w.put("/:name") { req, ctx in
            var caller = try ctx.caller
            let b = try await body(WorkflowBody.self, req)
            caller.reason = b.message ?? caller.reason ?? "set workflow"
            let outcome = try await workflows.set(
                caller,
                project: try ctx.parameters.require("project"),
                name: try ctx.parameters.require("name"),
                definition: Workflow.encode(b.definition),
                branch: b.branch ?? "main"
            )
            await scheduler.poke()
            return JSON.outcome(outcome)
        }
        for action in ["enable", "disable", "pause", "resume"] {
            w.post("/:name/\(action)") { req, ctx in
                var caller = try ctx.caller
                let b = try await JSON.decodeIfPresent(WorkflowActionBody.self, from: req, limit: 64 << 10)
                caller.reason = b?.message ?? caller.reason ?? "\(action) workflow"
                let project = try ctx.parameters.require("project")
                let name = try ctx.parameters.require("name")
                let state: WorkflowState =
                    switch action {
                    case "enable": try await workflows.enable(caller, project: project, name: name)
                    case "disable": try await workflows.disable(caller, project: project, name: name)
                    case "pause": try await workflows.pause(caller, project: project, name: name)
                    default: try await workflows.resume(caller, project: project, name: name)
                    }
                await scheduler.poke()
                return JSON.response(state)
            }
        }
        w.post("/:name/runs") { req, ctx in
            var caller = try ctx.caller
            let b = try await JSON.decodeIfPresent(WorkflowRunBody.self, from: req, limit: 1 << 20)
            caller.reason = b?.message ?? caller.reason
            let run = try await workflows.start(
                caller,
                project: try ctx.parameters.require("project"),
                name: try ctx.parameters.require("name"),
                inputs: b?.inputs ?? [:]
            )
            return JSON.response(run, status: .accepted)
        }
        w.get("/:name/runs") { req, ctx in
            let q = Query(request: req)
            let page = try await workflows.runs(
                try ctx.caller,
                project: try ctx.parameters.require("project"),
                name: try ctx.parameters.require("name"),
                limit: try q.int("limit", default: 50, range: 1...500),
                cursor: q.string("cursor")
            )
            return JSON.response(WorkflowRunPage(runs: page.runs, next: page.next))
        }
        w.get("/:name/runs/:id") { req, ctx in
            JSON.response(
                try await workflows.run(
                    try ctx.caller,
                    project: try ctx.parameters.require("project"),
                    name: try ctx.parameters.require("name"),
                    id: try ctx.parameters.require("id")
                )
            )
        }
        w.post("/:name/runs/:id/cancel") { req, ctx in
            JSON.response(
                try await workflows.cancel(
                    try ctx.caller,
                    project: try ctx.parameters.require("project"),
                    name: try ctx.parameters.require("name"),
                    id: try ctx.parameters.require("id")
                ),
                status: .accepted
            )
        }
    }
}
