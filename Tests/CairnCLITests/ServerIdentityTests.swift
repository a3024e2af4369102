import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// OIDC end to end: a real `cairn serve`, and an identity provider made with independent tools
/// (Python's pyjwt and cryptography) serving its JWKS on loopback.
@Suite(.serialized) struct ServerIdentityTests {
    static let generic401 =
        #"{"error":{"code":"unauthenticated","details":{},"message":"missing or invalid credential: send 'Authorization: Bearer <API key or ID token>'"}}"#

    final class Provider: @unchecked Sendable {
        let process = Process()
        let base: String

        init() throws {
            process.executableURL = URL(fileURLWithPath: try testPython())
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "Support/python/oidc_provider.py"
            )
            process.arguments = [script.path, "cairn-test"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line = Data()
            while !line.contains(0x0a) {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { throw CairnTestError("the identity provider did not start") }
                line += chunk
            }
            let text = String(decoding: line, as: UTF8.self)
            base = "http://127.0.0.1:" + text.split(separator: " ")[1].prefix { $0.isNumber }
        }

        deinit { stop() }

        /// Stops the provider and waits for it, so no test leaves it running.
        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            process.waitUntilExit()
        }

        func get(_ path: String) async throws -> String {
            let (data, _) = try await URLSession.shared.data(from: URL(string: base + path)!)
            return String(decoding: data, as: UTF8.self)
        }

        func fetches() async throws -> Int {
            let doc = try JSONSerialization.jsonObject(with: Data(try await get("/stats").utf8)) as? [String: Any]
            return doc?["jwks_fetches"] as? Int ?? -1
        }
    }

    @Test func tokensFromAnIndependentProvider() async throws {
        let idp = try Provider()
        // Stopped here, not only in deinit: a test that fails part-way may keep `idp` alive.
        defer { idp.stop() }
        let server = try await ServerHarness(environment: ["CAIRN_JWKS_REFETCH_SECONDS": "2"])
        let admin = try server.adminToken()
        // The provider is found through discovery; its group "planners" maps to the designer role.
        let put = try await server.request(
            "PUT",
            "/v1/orgs/default/identity",
            token: admin,
            json: ["issuer": idp.base, "audience": "cairn-test"]
        )
        #expect(put.status == 200, "\(put.text)")
        let grant = try await server.request(
            "PUT",
            "/v1/orgs/default/grants/planners",
            token: admin,
            json: ["subject": "group:planners", "role": "designer", "target": ["kind": "organization"]]
        )
        #expect(grant.status == 200, "\(grant.text)")
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "grid"]).status == 201)

        for good in ["good", "good-es256", "good-eddsa"] {
            let token = try await idp.get("/token?case=\(good)&sub=alice&groups=planners")
            let who = try await server.request("GET", "/v1/orgs/default/whoami", token: token)
            #expect(who.status == 200, "\(good): \(who.text)")
            #expect(who.json["subject"] as? String == "user:alice")
            #expect(who.json["groups"] as? [String] == ["group:planners"])
            let write = try await server.request(
                "PUT",
                "/v1/orgs/default/projects/grid/files/pipes/\(good).json",
                token: token,
                json: ["content": "{}"]
            )
            #expect(write.status == 200, "\(good) write: \(write.text)")
        }
        let bad: [(String, String)] = [
            ("wrong-signature", "signature"), ("alg-none", "algorithm"), ("hs256-public-key", "algorithm"), ("expired", "expired"),
            ("not-yet-valid", "not valid yet"), ("wrong-audience", "audience"), ("wrong-issuer", "issuer"), ("unknown-kid", "unknown key"),
        ]
        for (name, words) in bad {
            let token = try await idp.get("/token?case=\(name)&sub=mallory&groups=planners")
            let r = try await server.request("PUT", "/v1/orgs/default/projects/grid/files/evil.json", token: token, json: ["content": "{}"])
            #expect(r.status == 401, "\(name) was accepted: \(r.text)")
            #expect(r.errorCode == "unauthenticated")
            // Every failure answers the same generic message; what went wrong is in the audit record.
            #expect(r.text == Self.generic401, "\(name): \(r.text)")
            let audit = try await server.request("GET", "/v1/orgs/default/audit?outcome=unauthenticated&limit=1000", token: admin)
            #expect(audit.text.contains(words), "\(name): the audit record should say why: \(audit.text)")
            #expect(!r.text.contains(token.split(separator: ".").last.map(String.init) ?? "@@"), "the error echoes the token")
        }
        // Unknown kids refetch the key set at most once per interval.
        let before = try await idp.fetches()
        let started = Date()
        for _ in 0..<5 {
            _ = try await server.request("GET", "/v1/orgs/default/whoami", token: try await idp.get("/token?case=unknown-kid"))
        }
        // At most one fetch per 2 s interval (a loaded machine may take longer than one interval).
        #expect(try await idp.fetches() - before <= 1 + Int(Date().timeIntervalSince(started) / 2))

        // Rotation: the provider replaces its key; after the interval, the new kid is fetched and works.
        _ = try await idp.get("/rotate")
        try await Task.sleep(for: .milliseconds(2200))
        let rotated = try await idp.get("/token?case=good&sub=alice&groups=planners")
        let r = try await server.request("GET", "/v1/orgs/default/whoami", token: rotated)
        #expect(r.status == 200, "after rotation: \(r.text)")

        // Each failure is in the audit log, without the token.
        let audit = try await server.request("GET", "/v1/orgs/default/audit?outcome=unauthenticated&limit=1000", token: admin)
        let entries = audit.json["entries"] as? [[String: Any]] ?? []
        #expect(entries.count >= bad.count)
        #expect(!audit.text.contains("eyJ"))
        #expect(
            !(try await server.request("GET", "/v1/orgs/default/projects/grid/files/evil.json", token: admin)).text.contains("\"lines\"")
        )
    }
}
