import Foundation
import Testing

/// Tenant isolation over real HTTP: three organizations doing interleaved operations through
/// every endpoint; nothing one of them receives ever holds another's data or names.
@Suite(.serialized) struct ServerTenancyTests {
    @Test func organizationsNeverSeeEachOther() async throws {
        let server = try await ServerHarness()
        let orgs = ["amber", "birch", "cedar"]
        var tokens: [String: String] = [:]
        for org in orgs {
            #expect(server.cli.run(["admin", "org-create", org]).status == 0)
            tokens[org] = try server.adminToken(org: org)
        }
        func forbidden(_ me: String) -> [String] {
            orgs.filter { $0 != me }.flatMap { ["MARK-\($0)", "secret-\($0)", "user:\($0)-", "/orgs/\($0)"] }
        }
        var replies: [(String, String)] = []
        func call(_ org: String, _ method: String, _ path: String, _ json: Any? = nil) async throws -> ServerHarness.Reply {
            let r = try await server.request(method, "/v1/orgs/\(org)" + path, token: tokens[org], json: json)
            #expect(r.status < 500, "\(method) \(path): \(r.text)")
            replies.append((org, r.text))
            return r
        }
        for org in orgs {
            #expect(try await call(org, "POST", "/projects", ["name": "shared"]).status == 201)
            #expect(try await call(org, "POST", "/projects", ["name": "secret-\(org)"]).status == 201)
            _ = try await call(org, "PUT", "/members/user:\(org)-viewer", ["role": "viewer"])
        }
        var rng = SystemRandomNumberGenerator()
        var commits: [String: [String]] = [:]
        for step in 0..<90 {
            let org = orgs.randomElement(using: &rng)!
            let file = "/projects/shared/files/zone/\(step % 7).json"
            switch Int.random(in: 0..<12, using: &rng) {
            case 0, 1:
                let r = try await call(
                    org,
                    "PUT",
                    file,
                    ["content": "{\"owner\":\"MARK-\(org)\",\"step\":\(step)}\n", "message": "MARK-\(org) step \(step)"]
                )
                if let c = r.json["commit"] as? String { commits[org, default: []].append(c) }
            case 2: _ = try await call(org, "GET", file)
            case 3: _ = try await call(org, "GET", "/projects/shared/glob?pattern=**")
            case 4: _ = try await call(org, "GET", "/projects/shared/grep?pattern=MARK&mode=content")
            case 5: _ = try await call(org, "GET", "/projects/shared/commits?limit=100")
            case 6:
                if let c = commits[org]?.first { _ = try await call(org, "GET", "/projects/shared/diff?from=\(c)&to=main") }
                if let c = commits[org]?.last { _ = try await call(org, "GET", "/projects/shared/commits/\(c)") }
            case 7: _ = try await call(org, "GET", "/projects/shared/blame" + file.dropFirst("/projects/shared/files".count))
            case 8: _ = try await call(org, "GET", "/projects")
            case 9: _ = try await call(org, "GET", "/audit?limit=1000")
            case 10: _ = try await call(org, "GET", "/members")
            default:
                // Another organization's commit id, project and file, asked for by name.
                let other = orgs.filter { $0 != org }.randomElement(using: &rng)!
                if let c = commits[other]?.last {
                    let r = try await call(org, "GET", "/projects/shared/commits/\(c)")
                    #expect(r.status == 404)
                }
                // (Not added to the checked replies: the error names the project the caller asked for.)
                let r = try await server.request("GET", "/v1/orgs/\(org)/projects/secret-\(other)/files/x.json", token: tokens[org])
                let none = try await server.request("GET", "/v1/orgs/\(org)/projects/secret-zzzzz/files/x.json", token: tokens[org])
                #expect(r.status == 404 && r.errorCode == "project_not_found")
                #expect(r.text.replacingOccurrences(of: other, with: "zzzzz") == none.text)
                // And its credential at the other organization's address.
                let cross = try await server.request("GET", "/v1/orgs/\(other)/projects", token: tokens[org])
                #expect(cross.status == 401)
                replies.append((org, cross.text))
            }
        }
        let missing = try await server.request("GET", "/v1/orgs/no-such-org/projects", token: tokens["amber"])
        let foreign = try await server.request("GET", "/v1/orgs/birch/projects", token: tokens["amber"])
        #expect(missing.status == foreign.status && missing.text == foreign.text, "another organization answers differently from none")
        for (org, text) in replies {
            for needle in forbidden(org) {
                #expect(!text.contains(needle), "\(org) received \(needle): \(text.prefix(300))")
            }
        }
        // Every organization's own audit chain verifies.
        for org in orgs {
            let r = server.cli.run(["verify", "--org", org])
            #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        }
    }

    @Test func firstSessionFromTheReadme() async throws {
        let server = try await ServerHarness()
        #expect(server.startupOutput.contains("cairn admin token"))
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "fiber"]).status == 201)
        let first = try await server.request(
            "PUT",
            "/v1/orgs/default/projects/fiber/files/cabinets/c1.json",
            token: admin,
            json: ["content": "{\"ports\":24}\n", "message": "survey"]
        )
        #expect(first.status == 200)
        try await Task.sleep(for: .milliseconds(30))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let between = formatter.string(from: Date())
        try await Task.sleep(for: .milliseconds(1100))
        _ = try await server.request(
            "PUT",
            "/v1/orgs/default/projects/fiber/files/cabinets/c1.json",
            token: admin,
            json: ["content": "{\"ports\":48}\n", "message": "upgrade"]
        )
        let old = try await server.request(
            "GET",
            "/v1/orgs/default/projects/fiber/files/cabinets/c1.json?ref=main@\(between)",
            token: admin
        )
        #expect(old.json["lines"] as? [String] == ["{\"ports\":24}"], "\(old.text)")
        _ = try await server.request("PUT", "/v1/orgs/default/members/user:vera", token: admin, json: ["role": "viewer"])
        let key = try await server.request("POST", "/v1/orgs/default/keys", token: admin, json: ["subject": "user:vera", "role": "viewer"])
        let viewer = try #require(key.json["token"] as? String)
        let denied = try await server.request(
            "PUT",
            "/v1/orgs/default/projects/fiber/files/cabinets/c1.json",
            token: viewer,
            json: ["content": "{}"]
        )
        #expect(denied.status == 403 && denied.errorCode == "permission_denied", "\(denied.text)")
        #expect(denied.text.contains("write"))
        let audit = try await server.request("GET", "/v1/orgs/default/audit?outcome=denied&actor=user:vera", token: admin)
        let entries = audit.json["entries"] as? [[String: Any]] ?? []
        #expect(entries.count == 1)
        #expect((entries.first?["record"] as? [String: Any])?["paths"] as? [String] == ["cabinets/c1.json"])
        let spec = try await server.request("GET", "/v1/openapi.json")
        #expect(spec.status == 200 && (spec.json["openapi"] as? String) == "3.1.0")
        #expect(try await server.request("GET", "/healthz").status == 200)
        let metrics = try await server.request("GET", "/metrics")
        #expect(metrics.text.contains("cairn_decisions_total"))
    }
}
