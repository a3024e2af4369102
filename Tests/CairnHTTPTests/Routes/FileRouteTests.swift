import Foundation
import Testing

/// The file routes through the server's router in process: what a client sees, and that a
/// refused request changes nothing.
@Suite("HTTP file routes, in process")
struct FileRouteTests {
    static let files = "/v1/orgs/default/projects/p/files"

    @Test("a PUT file reads back byte for byte, its commit names the caller and the message")
    func writeThenRead() async throws {
        let server = try await InProcessServer()
        let admin = server.admin
        try await server.run(project: "p") { send in
            let content = #"{"name":"CAB-1","note":"quote \" and ä"}"#
            let body = String(
                decoding: try JSONSerialization.data(withJSONObject: ["content": content, "message": "first cabinet"]),
                as: UTF8.self
            )
            let put = try await send(.put, "\(Self.files)/fiber/1.json", body, token: admin)
            #expect(put.status == 200, "\(put.text)")
            let raw = try await send(.get, "\(Self.files)/fiber/1.json?raw=true", token: admin)
            #expect(raw.status == 200 && raw.text == content, "\(raw.text)")
            let log = try await send(.get, "/v1/orgs/default/projects/p/commits?limit=1", token: admin)
            #expect(log.status == 200 && log.text.contains("first cabinet") && log.text.contains("user:admin"), "\(log.text)")
        }
    }

    @Test("a body with a field the API does not know is refused with its name, and nothing is written")
    func unknownFieldRefused() async throws {
        let server = try await InProcessServer()
        let admin = server.admin
        try await server.run(project: "p") { send in
            let before = try await send(.get, "/v1/orgs/default/projects/p/commits?limit=5", token: admin)
            let refused = try await send(.put, "\(Self.files)/a.json", #"{"content":"{}","message":"m","mesage":"typo"}"#, token: admin)
            #expect(refused.status == 400 && refused.errorCode == "invalid_argument", "\(refused.text)")
            #expect(refused.text.contains("mesage"), "\(refused.text)")
            let missing = try await send(.get, "\(Self.files)/a.json?raw=true", token: admin)
            #expect(missing.status == 404, "\(missing.text)")
            let after = try await send(.get, "/v1/orgs/default/projects/p/commits?limit=5", token: admin)
            #expect(after.text == before.text)
        }
    }
}
