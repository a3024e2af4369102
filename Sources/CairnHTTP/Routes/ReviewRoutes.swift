import CairnCore
import CairnGovernance
import CairnStore
import Foundation
import Hummingbird

struct OpenMergeRequestBody: Decodable {
    let source: String
    let target: String?
    let title: String
    let description: String?
}

struct MergeMergeRequestBody: Decodable {
    let message: String?
    let resolutions: [String: [String: MergeResolution]]?
}

/// The answer to merging a request: merged (with the commit), or the hunks kept with it.
struct MergeRequestMergeAnswer: Encodable {
    let status: String
    let mergeRequest: MergeRequestView
    let outcome: CommitOutcome?
}

/// Merge requests (review and merge) and the approval queue.
extension Routes {
    func registerReviews(on org: RouterGroup<Context>) {
        let p = org.group("/projects/:project/merge-requests")
        p.get("") { req, ctx in
            let caller = try ctx.caller
            let q = Query(request: req)
            let state = try q.choice("state", MergeRequest.State.self)
            return JSON.response(
                try await gateway.review.mergeRequests(
                    caller,
                    project: try ctx.parameters.require("project"),
                    state: state,
                    limit: try q.int("limit", default: 50, range: 1...500),
                    cursor: q.string("cursor")
                )
            )
        }
        p.post("") { req, ctx in
            let caller = try ctx.caller
            let b = try await body(OpenMergeRequestBody.self, req)
            let view = try await gateway.review.openMergeRequest(
                caller,
                project: try ctx.parameters.require("project"),
                source: b.source,
                target: b.target ?? "main",
                title: b.title,
                description: b.description
            )
            return JSON.response(view, status: .created)
        }
        p.get("/:number") { req, ctx in
            let caller = try ctx.caller
            return JSON.response(
                try await gateway.review.mergeRequest(caller, project: try ctx.parameters.require("project"), number: try number(ctx))
            )
        }
        p.get("/:number/diff") { req, ctx in
            let caller = try ctx.caller
            let q = Query(request: req)
            return JSON.response(
                try await gateway.review.mergeRequestDiff(
                    caller,
                    project: try ctx.parameters.require("project"),
                    number: try number(ctx),
                    limit: try q.int("limit", default: 1000, range: 1...10_000),
                    cursor: q.string("cursor")
                )
            )
        }
        p.post("/:number/comments") { req, ctx in
            let caller = try ctx.caller
            struct Body: Decodable {
                let body: String
                let path: String?
            }
            let b = try await body(Body.self, req)
            return JSON.response(
                try await gateway.review.comment(
                    caller,
                    project: try ctx.parameters.require("project"),
                    number: try number(ctx),
                    body: b.body,
                    path: b.path
                )
            )
        }
        p.post("/:number/reviews") { req, ctx in
            let caller = try ctx.caller
            struct Body: Decodable {
                let verdict: String
                let rationale: String
                let head: String?
            }
            let b = try await body(Body.self, req)
            guard let verdict = MergeRequest.Verdict(rawValue: b.verdict) else {
                throw CairnError(.invalidArgument, "verdict must be approve, request_changes or reject", details: ["verdict": b.verdict])
            }
            return JSON.response(
                try await gateway.review.review(
                    caller,
                    project: try ctx.parameters.require("project"),
                    number: try number(ctx),
                    verdict: verdict,
                    rationale: b.rationale,
                    head: b.head
                )
            )
        }
        p.post("/:number/merge") { req, ctx in
            var caller = try ctx.caller
            let b = try await body(MergeMergeRequestBody.self, req)
            caller.reason = b.message ?? caller.reason
            switch try await gateway.review.mergeMergeRequest(
                caller,
                project: try ctx.parameters.require("project"),
                number: try number(ctx),
                resolutions: b.resolutions ?? [:]
            ) {
            case .merged(let view, let out):
                return JSON.response(MergeRequestMergeAnswer(status: "merged", mergeRequest: view, outcome: out))
            case .conflicts(let view): return JSON.response(MergeRequestMergeAnswer(status: "conflicts", mergeRequest: view, outcome: nil))
            }
        }
        p.post("/:number/close") { req, ctx in
            var caller = try ctx.caller
            struct Body: Decodable { let message: String? }
            caller.reason = try await body(Body.self, req).message ?? caller.reason
            return JSON.response(
                try await gateway.review.closeMergeRequest(caller, project: try ctx.parameters.require("project"), number: try number(ctx))
            )
        }

        org.get("/approvals") { req, ctx in
            let caller = try ctx.caller
            let q = Query(request: req)
            let state = try q.choice("state", PendingApproval.State.self)
            return JSON.response(
                try await gateway.review.approvals(
                    caller,
                    state: state,
                    limit: try q.int("limit", default: 50, range: 1...500),
                    cursor: q.string("cursor")
                )
            )
        }
        org.get("/approvals/:id") { req, ctx in
            JSON.response(try await gateway.review.approval(try ctx.caller, id: try ctx.parameters.require("id")))
        }
        org.post("/approvals/:id/decisions") { req, ctx in
            let caller = try ctx.caller
            struct Body: Decodable {
                let verdict: String
                let rationale: String
                let head: String?
            }
            let b = try await body(Body.self, req)
            guard b.verdict == "approve" || b.verdict == "reject" else {
                throw CairnError(.invalidArgument, "verdict must be approve or reject", details: ["verdict": b.verdict])
            }
            let decided = try await gateway.review.decideApproval(
                caller,
                id: try ctx.parameters.require("id"),
                approve: b.verdict == "approve",
                rationale: b.rationale
            )
            // A workflow run waiting on this request continues (or ends) at the scheduler's next round: now.
            if decided.operation == .workflowStep { await scheduler.poke() }
            return JSON.response(decided)
        }
        org.get("/approval-settings") { req, ctx in JSON.response(try await gateway.access.approvalSettings(try ctx.caller)) }
        org.put("/approval-settings") { req, ctx in
            let caller = try ctx.caller
            return JSON.response(try await gateway.access.putApprovalSettings(caller, try await body(ApprovalSettings.self, req)))
        }
        org.get("/access/shadow-report") { req, ctx in
            let caller = try ctx.caller
            let q = Query(request: req)
            return JSON.response(
                try await gateway.access.shadowReport(
                    caller,
                    sinceMillis: try q.time("since"),
                    limit: try q.int("limit", default: 100, range: 1...1000),
                    cursor: q.string("cursor")
                )
            )
        }
    }

    private func number(_ ctx: Context) throws -> Int {
        let text = try ctx.parameters.require("number")
        guard let n = Int(text), n > 0, n < 100_000_000 else {
            throw CairnError(.invalidArgument, "a merge request number is a positive integer", details: ["number": text])
        }
        return n
    }
}
