import CairnCore
import CairnGovernance
import CairnOntology
import CairnStore
import Foundation
import Hummingbird

struct OntologyBody: Decodable {
    let ontology: JSONValue
    let branch: String?
    let message: String?
    let acceptViolations: Bool?
}

struct OntologyCheckBody: Decodable {
    let ontology: JSONValue
    let ref: String?
}

struct OntologyAnswer: Encodable {
    let outcome: CommitOutcome
    let report: MigrationReport
}

/// The ontology of a project: read it, set it (a migration), try it, and query violations.
extension Routes {
    func registerOntology(on org: RouterGroup<Context>) {
        let p = org.group("/projects/:project")
        p.get("/ontology") { req, ctx in
            let caller = try ctx.caller
            let ref = Query(request: req).string("ref") ?? "main"
            let (_, _, bytes) = try await gateway.readBytes(
                caller,
                project: try ctx.parameters.require("project"),
                path: Ontology.path,
                at: ref
            )
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
            )
        }
        p.put("/ontology") { req, ctx in
            var caller = try ctx.caller
            let b = try await body(OntologyBody.self, req)
            caller.reason = b.message ?? caller.reason
            let (outcome, report) = try await gateway.ontology.put(
                caller,
                project: try ctx.parameters.require("project"),
                ontology: Array(b.ontology.text.utf8),
                branch: b.branch ?? "main",
                acceptViolations: b.acceptViolations ?? false
            )
            return JSON.response(OntologyAnswer(outcome: outcome, report: report), status: outcome.mergeRequest == nil ? .ok : .accepted)
        }
        p.post("/ontology/check") { req, ctx in
            let caller = try ctx.caller
            let b = try await body(OntologyCheckBody.self, req)
            let project = try ctx.parameters.require("project")
            return JSON.response(
                try await timed {
                    try await gateway.ontology.check(caller, project: project, ontology: Array(b.ontology.text.utf8), at: b.ref ?? "main")
                }
            )
        }
        p.get("/violations") { req, ctx in
            let caller = try ctx.caller
            let q = Query(request: req)
            let project = try ctx.parameters.require("project")
            let ref = q.string("ref") ?? "main"
            let limit = try q.int("limit", default: 1000, range: 1...100_000)
            let after = q.string("cursor")
            return JSON.response(
                try await timed { try await gateway.ontology.violations(caller, project: project, at: ref, limit: limit, after: after) }
            )
        }
    }
}
