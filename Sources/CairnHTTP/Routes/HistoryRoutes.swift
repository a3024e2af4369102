import CairnCore
import CairnGovernance
import CairnStore
import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle

extension Routes {
    func registerHistory(on org: RouterGroup<Context>) {
        let p = org.group("/projects/:project")
        p.get("/commits") { req, ctx in
            let caller = try ctx.caller
            let q = Query(request: req)
            let project = try ctx.parameters.require("project")
            let ref = q.string("ref") ?? "main"
            let path = q.string("path")
            let limit = try q.int("limit", default: 50, range: 1...1000)
            let cursor = q.string("cursor")
            return JSON.response(
                try await timed {
                    try await gateway.history.log(caller, project: project, at: ref, path: path, limit: limit, cursor: cursor)
                }
            )
        }
        // A ref may hold slashes (`agent-runs/ID`): as they are, or encoded as `%2F`.
        p.get("/commits/**") { req, ctx in
            let caller = try ctx.caller
            return JSON.response(
                try await gateway.history.show(caller, project: try ctx.parameters.require("project"), ref: try tail(req, ctx, noun: "ref"))
            )
        }
        p.get("/diff") { req, ctx in
            let caller = try ctx.caller
            let q = Query(request: req)
            let project = try ctx.parameters.require("project")
            let from = try q.required("from")
            let to = q.string("to") ?? "main"
            let limit = try q.int("limit", default: 1000, range: 1...10_000)
            let cursor = q.string("cursor")
            return JSON.response(
                try await timed {
                    try await gateway.history.diff(caller, project: project, from: from, to: to, limit: limit, after: cursor)
                }
            )
        }
        p.get("/blame/**") { req, ctx in
            let caller = try ctx.caller
            let project = try ctx.parameters.require("project")
            let path = try tail(req, ctx, noun: "file path")
            let ref = Query(request: req).string("ref") ?? "main"
            return JSON.response(
                BlameList(entries: try await timed { try await gateway.history.blame(caller, project: project, path: path, at: ref) })
            )
        }
        p.post("/revert") { req, ctx in
            var caller = try ctx.caller
            struct Body: Decodable {
                let commit: String
                let branch: String?
                let message: String?
            }
            let b = try await body(Body.self, req)
            caller.reason = b.message ?? caller.reason
            return JSON.outcome(
                try await gateway.history.revert(
                    caller,
                    project: try ctx.parameters.require("project"),
                    ref: b.commit,
                    branch: b.branch ?? "main"
                )
            )
        }
        p.get("/branches") { req, ctx in
            let caller = try ctx.caller
            return JSON.response(
                BranchList(branches: try await gateway.history.branches(caller, project: try ctx.parameters.require("project")))
            )
        }
        p.post("/branches") { req, ctx in
            var caller = try ctx.caller
            struct Body: Decodable {
                let name: String
                let from: String?
                let message: String?
            }
            let b = try await body(Body.self, req)
            caller.reason = b.message ?? caller.reason
            let info = try await gateway.history.createBranch(
                caller,
                project: try ctx.parameters.require("project"),
                branch: b.name,
                from: b.from ?? "main"
            )
            return JSON.response(info, status: .created)
        }
        p.post("/branches/**") { req, ctx in
            // POST …/branches/NAME/archive: the one action on a named branch besides delete.
            var caller = try ctx.caller
            let full = try tail(req, ctx, noun: "branch")
            guard full.hasSuffix("/archive") else { throw HTTPError(.notFound) }
            struct Body: Decodable { let message: String? }
            if let b = try await JSON.decodeIfPresent(Body.self, from: req, limit: config.maxBodyBytes) {
                caller.reason = b.message ?? caller.reason
            }
            let info = try await gateway.history.archiveBranch(
                caller,
                project: try ctx.parameters.require("project"),
                branch: String(full.dropLast("/archive".count))
            )
            return JSON.response(info)
        }
        p.delete("/branches/**") { req, ctx in
            let caller = try ctx.caller
            try await gateway.history.deleteBranch(
                caller,
                project: try ctx.parameters.require("project"),
                branch: try tail(req, ctx, noun: "branch")
            )
            return Response(status: .noContent)
        }
        p.get("/events") { req, ctx in
            let caller = try ctx.caller
            let project = try ctx.parameters.require("project")
            let stream = try await gateway.changes(caller, project: project)
            // Subscribed first, then the heads: a commit in between shows in both, never in
            // neither, and a client that re-renders from `ready` starts from a known state.
            let ready = FeedReady(project: project, branches: try await gateway.history.branchHeads(caller, project: project))
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    try await writer.write(
                        ByteBuffer(string: "event: ready\ndata: \(String(decoding: JSON.encode(ready), as: UTF8.self))\n\n")
                    )
                    // Ends when the server shuts down, and finds a client gone at the next
                    // heartbeat (a write to a closed connection throws) rather than at the
                    // next change, which may never come.
                    for await item in FeedItem.merge(stream, heartbeat: config.feedHeartbeatSeconds).cancelOnGracefulShutdown() {
                        switch item {
                        case .change(let event):
                            try await writer.write(
                                ByteBuffer(string: "event: change\ndata: \(String(decoding: JSON.encode(event), as: UTF8.self))\n\n")
                            )
                        case .heartbeat:
                            try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                        }
                    }
                    try await writer.finish(nil)
                }
            )
        }
    }
}

struct BlameList: Codable { let entries: [BlameEntry] }
struct BranchList: Codable { let branches: [BranchSummary] }
/// What the change feed writes: a change, or a comment line that keeps the connection honest.
enum FeedItem: Sendable {
    case change(ChangeEvent)
    case heartbeat

    static func merge(_ changes: AsyncStream<ChangeEvent>, heartbeat seconds: Double) -> AsyncStream<FeedItem> {
        AsyncStream { continuation in
            let forward = Task {
                for await event in changes { continuation.yield(.change(event)) }
                continuation.finish()
            }
            let beat = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                    if Task.isCancelled { break }
                    continuation.yield(.heartbeat)
                }
            }
            continuation.onTermination = { _ in
                forward.cancel()
                beat.cancel()
            }
        }
    }
}

/// The first event of a change feed: the branch heads the caller may read, as of subscribing.
struct FeedReady: Codable {
    let project: String
    let branches: [BranchInfo]
}
