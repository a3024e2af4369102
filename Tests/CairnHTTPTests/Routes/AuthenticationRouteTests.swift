import Foundation
import Testing

/// Before authentication succeeds every failure looks the same from outside, and a revoked key
/// binds from the very next request.
@Suite("HTTP authentication, in process")
struct AuthenticationRouteTests {
    @Test("no credential, a malformed one, a wrong key and another scheme get one and the same answer")
    func failuresLookAlike() async throws {
        let server = try await InProcessServer()
        let admin = server.admin
        try await server.run { send in
            let uri = "/v1/orgs/default/whoami"
            var answers = [try await send(.get, uri)]
            for value in ["Bearer", "Bearer \(admin)x", "Bearer \(String(admin.dropLast()))", "Basic dXNlcjpwYXNz", "bearer  "] {
                answers.append(try await send(.get, uri, headers: [.authorization: value]))
            }
            for a in answers {
                #expect(a.status == 401 && a.errorCode == "unauthenticated", "\(a.text)")
                #expect(a.text == answers[0].text)
                #expect(!a.text.contains(admin.suffix(16)))
            }
            let ok = try await send(.get, uri, token: admin)
            #expect(ok.status == 200 && ok.text.contains("user:admin"), "\(ok.text)")
        }
    }

    @Test("a key revoked over the API is refused on the next request")
    func revocationBindsAtOnce() async throws {
        let server = try await InProcessServer()
        let admin = server.admin
        try await server.run { send in
            let minted = try await send(
                .post,
                "/v1/orgs/default/keys",
                #"{"kind":"user","subject":"user:ann","role":"viewer"}"#,
                token: admin
            )
            #expect(minted.status == 201 || minted.status == 200, "\(minted.text)")
            let token = try #require(minted.json["token"] as? String)
            let id = try #require((minted.json["key"] as? [String: Any])?["id"] as? String)
            #expect(try await send(.get, "/v1/orgs/default/whoami", token: token).status == 200)
            let revoked = try await send(.delete, "/v1/orgs/default/keys/\(id)", token: admin)
            #expect(revoked.status == 200 || revoked.status == 204, "\(revoked.text)")
            let after = try await send(.get, "/v1/orgs/default/whoami", token: token)
            #expect(after.status == 401 && after.errorCode == "unauthenticated", "\(after.text)")
        }
    }
}
