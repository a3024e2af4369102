import CairnCore
import CairnGovernance
import CairnStore
import Foundation
import Hummingbird
import NIOCore

extension Routes {
    func registerAudit(on org: RouterGroup<Context>) {
        org.get("/audit") { req, ctx in
            let caller = try ctx.caller
            let q = Query(request: req)
            let page = try await gateway.audit(
                caller,
                query: try auditQuery(q),
                limit: try q.int("limit", default: 100, range: 1...1000),
                cursor: q.string("cursor")
            )
            return JSON.response(page)
        }
        // JSON Lines, one CloudEvents 1.0 event per entry, streamed page by page.
        org.get("/audit/export") { req, ctx in
            let caller = try ctx.caller
            let query = try auditQuery(Query(request: req))
            let first = try await gateway.audit(caller, query: query, limit: 1000)
            let gateway = self.gateway
            return Response(
                status: .ok,
                headers: [.contentType: "application/x-ndjson"],
                body: ResponseBody { writer in
                    var page = first
                    while true {
                        var buffer = ByteBuffer()
                        for item in page.entries {
                            buffer.writeBytes(AuditLog.cloudEvent(item))
                            buffer.writeString("\n")
                        }
                        try await writer.write(buffer)
                        guard let next = page.next else { break }
                        page = try await gateway.audit(caller, query: query, limit: 1000, cursor: next)
                    }
                    try await writer.finish(nil)
                }
            )
        }
    }

    func auditQuery(_ q: Query) throws -> AuditQuery {
        AuditQuery(
            actor: q.string("actor"),
            action: q.string("action"),
            outcome: q.string("outcome"),
            path: q.string("path"),
            sinceMillis: try q.time("since"),
            untilMillis: try q.time("until")
        )
    }
}
