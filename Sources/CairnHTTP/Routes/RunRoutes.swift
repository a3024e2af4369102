import CairnCore
import CairnGovernance
import Foundation
import Hummingbird

/// The Run primitive: deterministic geo-math on the world model at a commit.
extension Routes {
    func registerRun(on org: RouterGroup<Context>) {
        org.post("/projects/:project/run") { req, ctx in
            var caller = try ctx.caller
            let b = try await body(RunRequest.self, req)
            caller.reason = b.message ?? caller.reason
            let project = try ctx.parameters.require("project")
            let runner = caller
            return JSON.response(json: try await timed { try await gateway.compute.run(runner, project: project, b) }.json)
        }
    }
}
