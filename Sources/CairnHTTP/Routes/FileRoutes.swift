import CairnCore
import CairnGovernance
import CairnStore
import Foundation
import Hummingbird
import NIOCore

struct WriteBody: Decodable {
    let content: String
    let branch: String?
    let message: String?
    let basedOn: String?
}

struct EditBody: Decodable {
    let old: String
    let new: String
    let replaceAll: Bool?
    let branch: String?
    let message: String?
}

struct CommitBody: Decodable {
    let changes: [FileChangeInput]
    let branch: String?
    let message: String?
    let basedOn: String?
}

func parseBase(_ s: String?) throws -> ObjectID? {
    guard let s else { return nil }
    guard let id = ObjectID(hex: s) else {
        throw CairnError(.invalidArgument, "basedOn must be a full 64-digit commit id", details: ["basedOn": s])
    }
    return id
}

extension Routes {
    func registerFiles(on org: RouterGroup<Context>) {
        org.get("/projects") { req, ctx in
            let caller = try ctx.caller
            return JSON.response(
                ProjectList(
                    projects: try await gateway.projects(caller).map {
                        ProjectInfo(name: $0.name, created: Clock.rfc3339($0.createdMillis))
                    }
                )
            )
        }
        org.post("/projects") { req, ctx in
            let caller = try ctx.caller
            struct Body: Decodable { let name: String }
            let record = try await gateway.createProject(caller, name: try await body(Body.self, req).name)
            return JSON.response(ProjectInfo(name: record.name, created: Clock.rfc3339(record.createdMillis)), status: .created)
        }
        let p = org.group("/projects/:project")
        p.get("/files/**") { req, ctx in
            let caller = try ctx.caller
            let q = Query(request: req)
            let project = try ctx.parameters.require("project")
            let path = try tail(req, ctx, noun: "file path")
            let ref = q.string("ref") ?? "main"
            if try q.bool("raw") {
                let (_, _, bytes) = try await gateway.readBytes(caller, project: project, path: path, at: ref)
                return Response(
                    status: .ok,
                    headers: [.contentType: "application/octet-stream"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
                )
            }
            let lines = try await gateway.read(
                caller,
                project: project,
                path: path,
                at: ref,
                offset: try q.int("offset", default: 1, range: 1...Int(Int32.max)),
                limit: try q.int("limit", default: 2000, range: 1...100_000)
            )
            return JSON.response(lines)
        }
        p.put("/files/**") { req, ctx in
            var caller = try ctx.caller
            let b = try await body(WriteBody.self, req)
            caller.reason = b.message ?? caller.reason
            let out = try await gateway.write(
                caller,
                project: try ctx.parameters.require("project"),
                path: try tail(req, ctx, noun: "file path"),
                content: Array(b.content.utf8),
                branch: b.branch ?? "main",
                basedOn: try parseBase(b.basedOn)
            )
            return JSON.outcome(out)
        }
        p.patch("/files/**") { req, ctx in
            var caller = try ctx.caller
            let b = try await body(EditBody.self, req)
            caller.reason = b.message ?? caller.reason
            let out = try await gateway.edit(
                caller,
                project: try ctx.parameters.require("project"),
                path: try tail(req, ctx, noun: "file path"),
                old: b.old,
                new: b.new,
                replaceAll: b.replaceAll ?? false,
                branch: b.branch ?? "main"
            )
            return JSON.outcome(out)
        }
        p.delete("/files/**") { req, ctx in
            var caller = try ctx.caller
            let q = Query(request: req)
            caller.reason = q.string("message") ?? caller.reason
            let out = try await gateway.delete(
                caller,
                project: try ctx.parameters.require("project"),
                pathOrGlob: try tail(req, ctx, noun: "file path"),
                branch: q.string("branch") ?? "main"
            )
            return JSON.outcome(out)
        }
        p.get("/glob") { req, ctx in
            let caller = try ctx.caller
            let q = Query(request: req)
            let project = try ctx.parameters.require("project")
            let pattern = try q.required("pattern")
            let ref = q.string("ref") ?? "main"
            let limit = try q.int("limit", default: 1000, range: 1...10_000)
            let cursor = q.string("cursor")
            return JSON.response(
                try await timed { try await gateway.glob(caller, project: project, pattern: pattern, at: ref, limit: limit, after: cursor) }
            )
        }
        p.get("/grep") { req, ctx in
            let caller = try ctx.caller
            let q = Query(request: req)
            let project = try ctx.parameters.require("project")
            let ref = q.string("ref") ?? "main"
            guard let mode = GrepMode(rawValue: q.string("mode") ?? "files") else {
                throw CairnError(.invalidArgument, "mode must be files, content or count", details: ["parameter": "mode"])
            }
            let query = GrepQuery(
                pattern: try q.required("pattern"),
                glob: q.string("glob"),
                mode: mode,
                caseInsensitive: try q.bool("ignoreCase"),
                contextLines: try q.int("context", default: 0, range: 0...100),
                headLimit: try q.string("headLimit").map { _ in try q.int("headLimit", default: 0, range: 1...100_000) }
            )
            return JSON.response(try await timed { try await gateway.grep(caller, project: project, query: query, at: ref) })
        }
        p.post("/commits") { req, ctx in
            var caller = try ctx.caller
            let b = try await body(CommitBody.self, req)
            caller.reason = b.message ?? caller.reason
            let changes = try FileChangeInput.changes(b.changes)
            let out = try await gateway.commit(
                caller,
                project: try ctx.parameters.require("project"),
                changes: changes,
                branch: b.branch ?? "main",
                basedOn: try parseBase(b.basedOn)
            )
            return JSON.outcome(out)
        }
    }
}

struct ProjectInfo: Codable {
    let name: String
    let created: String
}
struct ProjectList: Codable { let projects: [ProjectInfo] }
