import CairnTestSupport
import Foundation
import Testing

/// The engine layer (issue 18), through the surfaces a user meets: a run's status follows its
/// merge request whoever settles it; rollback restores the target's tree exactly or names what
/// moved; a stopping server ends its open sessions by the recovery policy, promptly.
@Suite struct EngineRunTests {
    static let api = "/v1/orgs/default"

    /// A server with a project `city` holding `sites/a.json`, its admin, and a designer agent's key.
    static func setUp() async throws -> (ServerHarness, String, String) {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "\(api)/projects", token: admin, json: ["name": "city"]).status == 201)
        #expect(server.cli.run("write", "sites/a.json", "-p", "city", "--content", #"{"capacity":10}"#, "-m", "seed").status == 0)
        #expect(server.cli.run("write", "sites/b.json", "-p", "city", "--content", #"{"capacity":5}"#, "-m", "seed").status == 0)
        let minted = try await server.request(
            "POST",
            "\(api)/keys",
            token: admin,
            json: ["kind": "agent", "subject": "agent:p", "role": "designer", "project": "city"]
        )
        return (server, admin, try #require(minted.json["token"] as? String))
    }

    /// One session of the agent making `calls`, then the run it was (once its end is recorded).
    static func session(_ server: ServerHarness, _ admin: String, _ agent: String, _ calls: [[String: Any]]) async throws -> [String: Any] {
        let results = try await AgentHardeningTests.mcp([
            "http": ["url": server.base + "/v1/mcp?project=city", "token": agent], "calls": calls,
        ])
        #expect(results.allSatisfy { $0["isError"] as? Bool == false }, "\(results)")
        return try await AgentHardeningTests.waitForRun(server, admin, project: "city")
    }

    static func tree(_ server: ServerHarness, _ admin: String) async throws -> String {
        let shown = try await server.request("GET", "\(api)/projects/city/commits/main", token: admin)
        return try #require((shown.json["commit"] as? [String: Any])?["tree"] as? String, "\(shown.text)")
    }

    @Test(
        "a run follows its merge request: merged with the merge commit, or discarded when closed; rollback restores main's tree, or names the path that moved"
    )
    func runFollowsItsMergeRequest() async throws {
        let (server, admin, agent) = try await Self.setUp()
        let runs = "\(Self.api)/projects/city/agent-runs"
        let before = try await Self.tree(server, admin)

        // Merged by a person through the merge request: the run says so, with the merge commit.
        let first = try await Self.session(
            server,
            admin,
            agent,
            [["tool": "Edit", "arguments": ["path": "sites/a.json", "old": "10", "new": "25", "reason": "more"]]]
        )
        #expect(first["status"] as? String == "awaiting_approval", "\(first)")
        let id = try #require(first["id"] as? String)
        let mr = "\(Self.api)/projects/city/merge-requests/\(try #require(first["mergeRequest"] as? Int))"
        #expect(
            try await server.request("POST", mr + "/reviews", token: admin, json: ["verdict": "approve", "rationale": "fine"]).status == 200
        )
        let merged = try await server.request("POST", mr + "/merge", token: admin, json: [:])
        #expect(merged.status == 200, "\(merged.text)")
        let mergeCommit = (try await server.request("GET", mr, token: admin).json["request"] as? [String: Any])?["mergeCommit"] as? String
        let shown = try await server.request("GET", "\(runs)/\(id)", token: admin).json
        #expect(shown["status"] as? String == "merged" && shown["mergeCommit"] as? String == mergeCommit && mergeCommit != nil, "\(shown)")
        // The CLI reads the same record.
        let cli = server.cli.run(["runs", "show", id, "-p", "city", "--json"])
        #expect(cli.object["status"] as? String == "merged", "\(cli.stdout) \(cli.stderr)")

        // Rolled back: main's tree is exactly what it was before the run.
        let rollback = try await server.request("POST", "\(runs)/\(id)/rollback", token: admin, json: ["message": "undo"])
        #expect(rollback.status == 200 && rollback.json["status"] as? String == "rolled_back", "\(rollback.text)")
        #expect(try await Self.tree(server, admin) == before)

        // Closed without merging: discarded, and there is nothing to roll back.
        let second = try await Self.session(
            server,
            admin,
            agent,
            [["tool": "Edit", "arguments": ["path": "sites/b.json", "old": "5", "new": "7", "reason": "more"]]]
        )
        let secondID = try #require(second["id"] as? String)
        let closed = try await server.request(
            "POST",
            "\(Self.api)/projects/city/merge-requests/\(try #require(second["mergeRequest"] as? Int))/close",
            token: admin,
            json: [:]
        )
        #expect(closed.status == 200, "\(closed.text)")
        #expect(try await server.request("GET", "\(runs)/\(secondID)", token: admin).json["status"] as? String == "discarded")
        let none = try await server.request("POST", "\(runs)/\(secondID)/rollback", token: admin, json: [:])
        #expect(none.status == 409, "\(none.text)")

        // Merged, then a person changed the same file on main: the rollback is refused, naming it, and changes nothing.
        let third = try await Self.session(
            server,
            admin,
            agent,
            [["tool": "Edit", "arguments": ["path": "sites/b.json", "old": "5", "new": "9", "reason": "more"]]]
        )
        let thirdID = try #require(third["id"] as? String)
        let thirdMR = "\(Self.api)/projects/city/merge-requests/\(try #require(third["mergeRequest"] as? Int))"
        #expect(
            try await server.request("POST", thirdMR + "/reviews", token: admin, json: ["verdict": "approve", "rationale": "fine"]).status
                == 200
        )
        #expect(try await server.request("POST", thirdMR + "/merge", token: admin, json: [:]).status == 200)
        #expect(server.cli.run("write", "sites/b.json", "-p", "city", "--content", #"{"capacity":11}"#, "-m", "by hand").status == 0)
        let moved = try await Self.tree(server, admin)
        let refused = try await server.request("POST", "\(runs)/\(thirdID)/rollback", token: admin, json: [:])
        #expect(refused.status == 409 && refused.text.contains("sites/b.json"), "\(refused.text)")
        #expect(try await Self.tree(server, admin) == moved)
    }

    @Test(
        "a run's call records are kept under the audit chain: verify passes, then finds a record altered, one removed and one forged"
    )
    func callRecordsAreUnderTheAuditChain() async throws {
        let (server, admin, agent) = try await Self.setUp()
        let run = try await Self.session(
            server,
            admin,
            agent,
            [
                ["tool": "Read", "arguments": ["path": "sites/a.json"]],
                ["tool": "Edit", "arguments": ["path": "sites/a.json", "old": "10", "new": "12", "reason": "more"]],
                ["tool": "Read", "arguments": ["path": "sites/b.json"]],
            ]
        )
        #expect((run["calls"] as? [Any])?.count == 3, "\(run)")
        let clean = server.cli.run("verify", "--json")
        #expect(clean.status == 0 && (clean.object["audit"] as? [String: Any])?["ok"] as? Bool == true, "\(clean.stdout) \(clean.stderr)")

        // The first call's row altered, the last removed, and a copy of one under a number no call had.
        #expect(
            try server.cli.tamper(
                sqlite: """
                    UPDATE run_call SET body = CAST('{}' AS BLOB) WHERE seq = (SELECT MIN(seq) FROM run_call);
                    DELETE FROM run_call WHERE seq = (SELECT MAX(seq) FROM run_call);
                    INSERT INTO run_call SELECT project, run, 999, time_ms, body FROM run_call LIMIT 1;
                    """,
                postgres: """
                    UPDATE run_call SET body = convert_to('{}', 'UTF8') WHERE seq = (SELECT MIN(seq) FROM run_call);
                    DELETE FROM run_call WHERE seq = (SELECT MAX(seq) FROM run_call);
                    INSERT INTO run_call SELECT project, run, 999, time_ms, body FROM run_call LIMIT 1;
                    """
            ) == 0
        )
        let broken = server.cli.run("verify", "--json")
        let problems = (broken.object["audit"] as? [String: Any])?["problems"] as? [String] ?? []
        #expect(broken.status == 2, "\(broken.stdout) \(broken.stderr)")
        #expect(problems.contains { $0.contains("was altered") }, "\(problems)")
        #expect(problems.contains { $0.contains("is missing its record") }, "\(problems)")
        #expect(problems.contains { $0.contains("call 999") && $0.contains("has no audit record") }, "\(problems)")
    }

    @Test(
        "SIGTERM with an open MCP session over HTTP and an open feed: the server exits within 10 s and the run is interrupted, its branch kept"
    )
    func stopsPromptlyWithOpenSessions() async throws {
        let (server, admin, agent) = try await Self.setUp()
        let id = try await server.openMCPSession("project=city", token: agent)
        // A write on the run's branch, so the kept branch has something to keep.
        let call: [String: Any] = [
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": ["name": "Write", "arguments": ["path": "sites/c.json", "content": "{}", "reason": "new site"]],
        ]
        let wrote = try await server.request(
            "POST",
            "/v1/mcp?project=city",
            token: agent,
            json: call,
            headers: ["Accept": "application/json, text/event-stream", "Mcp-Session-Id": id]
        )
        #expect(wrote.status == 200 && wrote.text.contains("committed"), "\(wrote.text)")
        // An open feed, and the session's own event stream.
        let feed = Process()
        feed.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        feed.arguments = [
            "curl", "-sN", "--max-time", "120", "-H", "Authorization: Bearer \(admin)", "\(server.base)\(Self.api)/projects/city/events",
        ]
        feed.standardOutput = FileHandle.nullDevice
        feed.standardError = FileHandle.nullDevice
        try feed.run()
        defer { if feed.isRunning { feed.terminate() } }
        let stream = Process()
        stream.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        stream.arguments = [
            "curl", "-sN", "--max-time", "120", "-H", "Authorization: Bearer \(agent)", "-H", "Accept: text/event-stream", "-H",
            "Mcp-Session-Id: \(id)",
            "\(server.base)/v1/mcp?project=city",
        ]
        stream.standardOutput = FileHandle.nullDevice
        stream.standardError = FileHandle.nullDevice
        try stream.run()
        defer { if stream.isRunning { stream.terminate() } }
        try await Task.sleep(for: .milliseconds(500))

        let asked = ContinuousClock.now
        server.process.terminate()
        while server.process.isRunning && ContinuousClock.now - asked < .seconds(30) { try await Task.sleep(for: .milliseconds(50)) }
        let took = ContinuousClock.now - asked
        #expect(!server.process.isRunning && took < .seconds(10), "the server took \(took) to stop")

        // The run was ended by the recovery policy as the server stopped: interrupted, its write on its branch.
        let shown = server.cli.run(["runs", "show", id, "-p", "city", "--json"])
        #expect(shown.object["status"] as? String == "interrupted", "\(shown.stdout) \(shown.stderr)")
        let branch = shown.object["branch"] as? String ?? ""
        // The write's record went with its commit: the call names the commit, and the commit names the run and the call.
        let calls = shown.object["calls"] as? [[String: Any]] ?? []
        let commit = try #require((calls.first?["commits"] as? [String])?.first, "\(shown.stdout)")
        #expect(calls.count == 1 && calls.first?["tool"] as? String == "Write", "\(shown.stdout)")
        let made = server.cli.run(["show", commit, "-p", "city", "--json"])
        #expect(made.stdout.contains(id) && made.status == 0, "\(made.stdout) \(made.stderr)")
        #expect(
            server.cli.run(["read", "sites/c.json", "-p", "city", "--at", branch]).status == 0,
            "the interrupted run's branch keeps its write"
        )
        #expect(server.cli.run(["read", "sites/c.json", "-p", "city"]).status != 0, "nothing of the interrupted run reached main")
    }
}
