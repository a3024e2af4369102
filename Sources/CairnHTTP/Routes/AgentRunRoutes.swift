import CairnCore
import CairnEngine
import CairnGovernance
import Foundation
import Hummingbird

/// Agent runs: each MCP session's record, every call in order.
extension Routes {
    func registerAgentRuns(on org: RouterGroup<Context>) {
        org.get("/projects/:project/agent-runs") { req, ctx in
            let q = Query(request: req)
            let limit = try q.int("limit", default: 50, range: 1...500)
            let cursor = q.string("cursor")
            let page = try await gateway.agentRuns(
                try ctx.caller,
                project: try ctx.parameters.require("project"),
                limit: limit,
                cursor: cursor
            )
            return JSON.response(AgentRunPage(runs: page.runs, next: page.next))
        }
        org.post("/projects/:project/agent-runs/:id/rollback") { req, ctx in
            JSON.response(
                try await gateway.rollbackAgentRun(
                    try ctx.caller,
                    project: try ctx.parameters.require("project"),
                    id: try ctx.parameters.require("id")
                )
            )
        }
        org.post("/projects/:project/agent-runs/:id/replay") { req, ctx in
            let caller = try ctx.caller
            return JSON.response(
                try await RunReplay.replay(
                    engine: engine,
                    caller: caller,
                    project: try ctx.parameters.require("project"),
                    id: try ctx.parameters.require("id")
                )
            )
        }
        org.get("/projects/:project/lineage") { req, ctx in
            let q = Query(request: req)
            guard let path = q.string("path"), let pointer = q.string("pointer") else {
                throw CairnError(.invalidArgument, "lineage needs path and pointer (a JSON pointer such as /properties/ports)")
            }
            return JSON.response(
                try await gateway.lineage(
                    try ctx.caller,
                    project: try ctx.parameters.require("project"),
                    path: path,
                    pointer: pointer,
                    at: q.string("ref") ?? "main"
                )
            )
        }
        org.get("/projects/:project/agent-runs/:id") { req, ctx in
            JSON.response(
                try await gateway.agentRun(
                    try ctx.caller,
                    project: try ctx.parameters.require("project"),
                    id: try ctx.parameters.require("id")
                )
            )
        }
    }
}

struct AgentRunPage: Encodable {
    let runs: [AgentRun]
    let next: String?
}
