import Foundation
import Testing

/// The history routes in process: pages that add up to the whole history, never a silent cut.
@Suite("HTTP history routes, in process")
struct HistoryRouteTests {
    @Test("following `next` through pages of two gives every commit once, newest first, and ends with no cursor")
    func logPagesAddUp() async throws {
        let server = try await InProcessServer()
        let admin = server.admin
        try await server.run(project: "p") { send in
            for i in 1...5 {
                let put = try await send(
                    .put,
                    "/v1/orgs/default/projects/p/files/n.json",
                    #"{"content":"{\"n\":\#(i)}","message":"step \#(i)"}"#,
                    token: admin
                )
                #expect(put.status == 200, "\(put.text)")
            }
            var messages: [String] = []
            var ids: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let query = cursor.map { "&cursor=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? ""
                let page = try await send(.get, "/v1/orgs/default/projects/p/commits?limit=2\(query)", token: admin)
                #expect(page.status == 200, "\(page.text)")
                let entries = try #require(page.json["commits"] as? [[String: Any]], "\(page.text)")
                let commits = entries.compactMap { $0["commit"] as? [String: Any] }
                #expect(commits.count == entries.count && commits.count <= 2)
                messages += commits.compactMap { $0["message"] as? String }
                ids += commits.compactMap { $0["id"] as? String }
                cursor = page.json["next"] as? String
                pages += 1
            } while cursor != nil && pages < 10
            let steps = (1...5).reversed().map { "step \($0)" }
            #expect(Array(messages.prefix(5)) == steps, "\(messages)")
            // The five writes and the project's first commit, each once.
            #expect(ids.count == 6 && Set(ids).count == ids.count, "\(ids)")
            #expect(cursor == nil && pages == 3, "pages: \(pages)")
            let bad = try await send(.get, "/v1/orgs/default/projects/p/commits?limit=0", token: admin)
            #expect(bad.status == 400 && bad.errorCode == "invalid_argument", "\(bad.text)")
        }
    }
}
