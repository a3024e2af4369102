import CairnCore
import CairnGovernance
import CairnStore
import Foundation
import Hummingbird

struct MergeBody: Decodable {
    let source: String
    let target: String?
    let message: String?
    let resolutions: [String: [String: MergeResolution]]?
}

/// The answer to a merge: merged (with the commit), or the hunks still to settle.
struct MergeResponse: Encodable {
    let status: String
    let base: String
    let outcome: CommitOutcome?
    let conflicts: [FileConflict]?
    let ours: String?
    let theirs: String?

    init(_ result: MergeOutcome) {
        switch result {
        case .merged(let out, let base):
            (status, self.base, outcome, conflicts, ours, theirs) = ("merged", base.hex, out, nil, nil, nil)
        case .conflicts(let files, let base, let ours, let theirs):
            (status, self.base, outcome, conflicts, self.ours, self.theirs) = ("conflicts", base.hex, nil, files, ours.hex, theirs.hex)
        }
    }
}

extension Routes {
    func registerMerges(on org: RouterGroup<Context>) {
        org.post("/projects/:project/merges") { req, ctx in
            var caller = try ctx.caller
            let b = try await body(MergeBody.self, req)
            caller.reason = b.message ?? caller.reason
            let resolutions = b.resolutions ?? [:]
            let outcome = try await gateway.history.merge(
                caller,
                project: try ctx.parameters.require("project"),
                source: b.source,
                into: b.target ?? "main",
                resolutions: resolutions
            )
            return JSON.response(MergeResponse(outcome))
        }
    }
}
