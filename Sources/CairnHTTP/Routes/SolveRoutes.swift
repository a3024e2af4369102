import CairnCore
import CairnGovernance
import Foundation
import Hummingbird

/// The Solve primitive: optimization on local solvers, and cancelling a solve that runs.
extension Routes {
    func registerSolve(on org: RouterGroup<Context>) {
        // Not under the request timeout: a solve is bounded by its own `timeLimit`, and a client
        // that goes away cancels it.
        org.post("/projects/:project/solve") { req, ctx in
            var caller = try ctx.caller
            let b = try await body(SolveRequest.self, req)
            caller.reason = b.message ?? caller.reason
            return JSON.response(try await gateway.compute.solve(caller, project: try ctx.parameters.require("project"), b))
        }
        org.get("/projects/:project/solves") { req, ctx in
            let solves = try await gateway.compute.runningSolves(try ctx.caller, project: try ctx.parameters.require("project"))
            return JSON.response(["solves": solves])
        }
        org.post("/projects/:project/solves/:id/cancel") { req, ctx in
            try await gateway.compute.cancelSolve(
                try ctx.caller,
                project: try ctx.parameters.require("project"),
                id: try ctx.parameters.require("id")
            )
            return JSON.response(["cancelled": true])
        }
    }
}
