import CairnTestSupport
import Foundation
import Testing

/// What an agent's users met (issue 17, items 14–17): rollback of an approved run, write-only
/// and read-only agents, the ontology's answer to an agent, and routing with a path-scoped key.
@Suite struct AgentHardeningTests {
    static let api = "/v1/orgs/default"

    static func mcp(_ query: [String: Any]) async throws -> [[String: Any]] {
        try await PythonReference.run("Tests/CairnCLITests/Support/python/mcp_session.py", query)["results"] as? [[String: Any]] ?? []
    }

    /// The project's latest run once it has ended (a session's end is recorded just after it closes).
    static func waitForRun(_ server: ServerHarness, _ admin: String, project: String) async throws -> [String: Any] {
        try await MCPSurfaceTests.endedRun(server, admin: admin, project: project)
    }

    @Test("rolling back a run whose merge request a person approved and merged undoes its change on main")
    func rollbackAfterApprovedMerge() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "\(Self.api)/projects", token: admin, json: ["name": "city"]).status == 201)
        #expect(server.cli.run("write", "sites/a.json", "-p", "city", "--content", #"{"capacity":10}"#, "-m", "seed").status == 0)
        let minted = try await server.request(
            "POST",
            "\(Self.api)/keys",
            token: admin,
            json: ["kind": "agent", "subject": "agent:p", "role": "designer", "project": "city"]
        )
        let agent = try #require(minted.json["token"] as? String)
        let results = try await Self.mcp([
            "http": ["url": server.base + "/v1/mcp?project=city", "token": agent],
            "calls": [["tool": "Edit", "arguments": ["path": "sites/a.json", "old": "10", "new": "25", "reason": "more capacity"]]],
        ])
        #expect(results.first?["isError"] as? Bool == false, "\(results)")
        let run = try await Self.waitForRun(server, admin, project: "city")
        #expect(run["status"] as? String == "awaiting_approval", "\(run)")
        let number = try #require(run["mergeRequest"] as? Int)
        let mr = "\(Self.api)/projects/city/merge-requests/\(number)"
        #expect(
            try await server.request("POST", mr + "/reviews", token: admin, json: ["verdict": "approve", "rationale": "fine"]).status == 200
        )
        #expect(try await server.request("POST", mr + "/merge", token: admin, json: [:]).status == 200)
        #expect(try await server.request("GET", "\(Self.api)/projects/city/files/sites/a.json?raw=true", token: admin).text.contains("25"))

        let id = try #require(run["id"] as? String)
        let rollback = try await server.request(
            "POST",
            "\(Self.api)/projects/city/agent-runs/\(id)/rollback",
            token: admin,
            json: ["message": "undo"]
        )
        #expect(rollback.status == 200 && rollback.json["status"] as? String == "rolled_back", "\(rollback.text)")
        let after = try await server.request("GET", "\(Self.api)/projects/city/files/sites/a.json?raw=true", token: admin)
        #expect(after.text.contains("10") && !after.text.contains("25"), "the rollback left main as it was: \(after.text)")
    }

    @Test(
        "a write-only agent's write to protected main becomes a merge request; a refused one leaves no branch; a read-only agent holds a session"
    )
    func writeOnlyAndReadOnlyAgents() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "\(Self.api)/projects", token: admin, json: ["name": "city"]).status == 201)
        #expect(server.cli.run("write", "sites/a.json", "-p", "city", "--content", "{}", "-m", "seed").status == 0)
        #expect(
            try await server.request("PUT", "\(Self.api)/roles/writer", token: admin, json: ["authorities": ["write", "delete"]]).status
                == 200
        )
        let writer = try #require(
            try await server.request(
                "POST",
                "\(Self.api)/keys",
                token: admin,
                json: ["kind": "agent", "subject": "agent:w", "role": "writer", "project": "city"]
            ).json["token"] as? String
        )
        let put = try await server.request(
            "PUT",
            "\(Self.api)/projects/city/files/top.json",
            token: writer,
            json: ["content": #"{"x":1}"#, "branch": "main", "message": "a proposal"]
        )
        #expect(put.status == 202 && put.json["mergeRequest"] as? Int != nil, "\(put.text)")
        // Refused (an agent must give a reason): nothing left behind.
        let before = try await server.request("GET", "\(Self.api)/projects/city/branches", token: admin).text
        let refused = try await server.request(
            "PUT",
            "\(Self.api)/projects/city/files/top2.json",
            token: writer,
            json: ["content": "{}", "branch": "main"]
        )
        #expect(refused.status == 400, "\(refused.text)")
        let branchesAfter = try await server.request("GET", "\(Self.api)/projects/city/branches", token: admin).text
        #expect(
            (before.components(separatedBy: "proposals/").count) == (branchesAfter.components(separatedBy: "proposals/").count),
            "a refused write left a branch"
        )

        let reader = try #require(
            try await server.request(
                "POST",
                "\(Self.api)/keys",
                token: admin,
                json: ["kind": "agent", "subject": "agent:r", "role": "viewer", "project": "city"]
            ).json["token"] as? String
        )
        let results = try await Self.mcp([
            "http": ["url": server.base + "/v1/mcp?project=city", "token": reader],
            "calls": [
                ["tool": "Read", "arguments": ["path": "sites/a.json"]],
                ["tool": "Write", "arguments": ["path": "sites/b.json", "content": "{}", "reason": "try"]],
            ],
        ])
        #expect(results.count == 2 && results[0]["isError"] as? Bool == false, "\(results)")
        #expect(
            results.count == 2 && results[1]["isError"] as? Bool == true
                && (results[1]["text"] as? String ?? "").contains("permission_denied"),
            "\(results)"
        )
    }

    @Test("an agent refused by the ontology is told every rule, path and pointer it broke")
    func agentSeesViolations() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "\(Self.api)/projects", token: admin, json: ["name": "city"]).status == 201)
        let ontology: [String: Any] = [
            "entityTypes": [
                [
                    "id": "Site", "match": ["glob": "sites/**"], "geometry": "none",
                    "properties": [["name": "capacity", "type": "integer", "required": true, "minimum": 0, "maximum": 100]],
                ]
            ]
        ]
        let set = try await server.request(
            "PUT",
            "\(Self.api)/projects/city/ontology",
            token: admin,
            json: ["ontology": ontology, "message": "model"]
        )
        #expect(set.status == 200, "\(set.text)")
        #expect(try await server.request("POST", "\(Self.api)/projects/city/branches", token: admin, json: ["name": "dev"]).status == 201)
        let agent = try #require(
            try await server.request(
                "POST",
                "\(Self.api)/keys",
                token: admin,
                json: ["kind": "agent", "subject": "agent:o", "role": "designer", "project": "city"]
            ).json["token"] as? String
        )
        let results = try await Self.mcp([
            "http": ["url": server.base + "/v1/mcp?project=city&branch=dev", "token": agent],
            "calls": [["tool": "Write", "arguments": ["path": "sites/a.json", "content": #"{"capacity":500}"#, "reason": "too big"]]],
        ])
        let text = results.first?["text"] as? String ?? ""
        #expect(results.first?["isError"] as? Bool == true && text.contains("validation_failed"), "\(results)")
        #expect(text.contains("\"violations\"") && text.contains("sites/a.json") && text.contains("/capacity"), "\(text)")
        // The same structured error the HTTP API answers, as the result's structured content.
        let error = (results.first?["structured"] as? [String: Any])?["error"] as? [String: Any]
        let violation = (error?["violations"] as? [[String: Any]])?.first
        #expect(error?["code"] as? String == "validation_failed" && violation?["path"] as? String == "sites/a.json", "\(results)")
        let pointer = (violation?["pointer"] as? String) ?? ""
        #expect(pointer.contains("/capacity"), "\(results)")
        // And the refused call is in the run's record with its error; the branch did not move.
        let run = try await Self.waitForRun(server, admin, project: "city")
        let calls = run["calls"] as? [[String: Any]] ?? []
        #expect(calls.count == 1 && (calls.first?["error"] as? String ?? "").hasPrefix("validation_failed"), "\(run)")
        #expect(run["status"] as? String == "completed", "\(run)")
    }

    @Test("Run with a path-scoped key says the roads are outside its scope; with the roads in scope it routes")
    func runWithAPathScopedKey() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "\(Self.api)/projects", token: admin, json: ["name": "city"]).status == 201)
        let road =
            #"{"type":"Feature","geometry":{"type":"LineString","coordinates":[[24.94,60.17],[24.95,60.17]]},"properties":{"highway":"residential"}}"#
        #expect(server.cli.run("write", "roads/1.json", "-p", "city", "--content", road, "-m", "road").status == 0)
        let body: [String: Any] = ["function": "route", "points": [[24.941, 60.17], [24.949, 60.17]]]
        let fiberOnly = try #require(
            try await server.request(
                "POST",
                "\(Self.api)/keys",
                token: admin,
                json: ["kind": "agent", "subject": "agent:f", "role": "designer", "project": "city", "path": "fiber/**"]
            ).json["token"] as? String
        )
        let refused = try await server.request("POST", "\(Self.api)/projects/city/run", token: fiberOnly, json: body)
        #expect(
            refused.status == 400 && refused.text.contains("within your access") && !refused.text.contains("roads/1.json"),
            "\(refused.text)"
        )
        // The README's example key: fiber and roads.
        let both = try #require(
            try await server.request(
                "POST",
                "\(Self.api)/keys",
                token: admin,
                json: ["kind": "agent", "subject": "agent:g", "role": "designer", "project": "city", "path": "{fiber,roads}/**"]
            ).json["token"] as? String
        )
        let routed = try await server.request("POST", "\(Self.api)/projects/city/run", token: both, json: body)
        #expect(routed.status == 200, "\(routed.text)")
    }
}
