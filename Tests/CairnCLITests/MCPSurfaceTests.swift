import CairnTestSupport
import Foundation
import Testing

/// The agent surface through the official MCP Python client (PyPI `mcp`): exactly the eight
/// tools, a session of reads, searches, edits, a Run and a Solve, a denied write returned as a
/// tool error and audited, and the run's record of every call in order; the session's changes
/// reach `main` through a merge request a person approves.
@Suite struct MCPSurfaceTests {
    static let tools = ["Delete", "Edit", "Glob", "Grep", "Read", "Run", "Solve", "Write"]

    /// A project with two cabinets and a road, an agent key limited to `fiber/**`.
    static func setUp() async throws -> (ServerHarness, admin: String, agent: String) {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "city"]).status == 201)
        for (path, content) in [
            (
                "fiber/cabinets/1.json",
                #"{"type":"Feature","geometry":{"type":"Point","coordinates":[24.9384,60.1699]},"properties":{"name":"CAB-1","ports":24}}"#
            ),
            (
                "fiber/cabinets/2.json",
                #"{"type":"Feature","geometry":{"type":"Point","coordinates":[24.9525,60.1718]},"properties":{"name":"CAB-2","ports":48}}"#
            ),
            ("secret/plan.json", #"{"budget":1000000}"#),
        ] {
            #expect(server.cli.run("write", path, "-p", "city", "--content", content, "-m", "seed").status == 0)
        }
        // Ana, who launches the agent, may design; Vera may only look.
        #expect(
            try await server.request("PUT", "/v1/orgs/default/members/user:ana", token: admin, json: ["role": "designer"]).status == 200
        )
        #expect(try await server.request("PUT", "/v1/orgs/default/members/user:vera", token: admin, json: ["role": "viewer"]).status == 200)
        let minted = try await server.request(
            "POST",
            "/v1/orgs/default/keys",
            token: admin,
            json: ["kind": "agent", "subject": "agent:planner", "role": "designer", "project": "city", "path": "fiber/**"]
        )
        let agent = try #require(minted.json["token"] as? String, "\(minted.text)")
        return (server, admin, agent)
    }

    static var plan: [[String: Any]] {
        [
            ["tool": "Read", "arguments": ["path": "fiber/cabinets/1.json"]],
            ["tool": "Glob", "arguments": ["pattern": "fiber/**"]],
            ["tool": "Grep", "arguments": ["pattern": "CAB-2", "mode": "lines"]],
            [
                "tool": "Edit",
                "arguments": [
                    "path": "fiber/cabinets/1.json", "old": #""ports":24"#, "new": #""ports":32"#, "reason": "more ports for the new block",
                ],
            ],
            ["tool": "Run", "arguments": ["function": "distance", "inputs": ["fiber/cabinets/1.json", "fiber/cabinets/2.json"]]],
            [
                "tool": "Solve",
                "arguments": ["kind": "facility_location", "depots": "fiber/cabinets/*.json", "stops": "fiber/cabinets/2.json"],
            ],
            ["tool": "Write", "arguments": ["path": "secret/plan.json", "content": "{}", "reason": "reset"]],
            ["tool": "Read", "arguments": ["path": "secret/plan.json"]],
            ["tool": "Grep", "arguments": ["pattern": "budget|1000000", "mode": "lines"]],
            ["tool": "Run", "arguments": ["function": "centroid", "inputs": ["secret/plan.json"]]],
            ["tool": "Delete", "arguments": ["path": "secret/**", "reason": "tidy up"]],
        ]
    }

    static func session(_ transport: [String: Any]) async throws -> [String: Any] {
        var query = transport
        query["calls"] = plan
        return try await PythonReference.run("Tests/CairnCLITests/Support/python/mcp_session.py", query)
    }

    static func checkSession(_ answer: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) {
        let tools = answer["tools"] as? [[String: Any]] ?? []
        #expect(tools.compactMap { $0["name"] as? String }.sorted() == Self.tools, sourceLocation: sourceLocation)
        #expect(
            tools.allSatisfy {
                ($0["inputSchema"] as? [String: Any])?["type"] as? String == "object" && !($0["description"] as? String ?? "").isEmpty
            }
        )
        let read = tools.first { $0["name"] as? String == "Read" }?["annotations"] as? [String: Any]
        let delete = tools.first { $0["name"] as? String == "Delete" }?["annotations"] as? [String: Any]
        #expect(read?["readOnlyHint"] as? Bool == true && delete?["destructiveHint"] as? Bool == true, sourceLocation: sourceLocation)
        #expect(answer["resources"] as? [String] == ["cairn://projects/city/ontology"], sourceLocation: sourceLocation)
        let results = answer["results"] as? [[String: Any]] ?? []
        #expect(results.count == plan.count, sourceLocation: sourceLocation)
        func text(_ i: Int) -> String { results.indices.contains(i) ? results[i]["text"] as? String ?? "" : "" }
        func failed(_ i: Int) -> Bool { results.indices.contains(i) ? results[i]["isError"] as? Bool ?? false : false }
        #expect(text(0).contains("CAB-1") && text(0).contains("     1\t"), sourceLocation: sourceLocation)
        #expect(text(1).contains("fiber/cabinets/2.json") && !text(1).contains("secret"), sourceLocation: sourceLocation)
        #expect(text(2).contains("fiber/cabinets/2.json:1:"), sourceLocation: sourceLocation)
        #expect(!failed(3) && text(3).contains("committed"), "\(text(3))", sourceLocation: sourceLocation)
        #expect(!failed(4) && text(4).contains("geodesic"), "\(text(4))", sourceLocation: sourceLocation)
        #expect(!failed(5) && text(5).contains("optimal"), "\(text(5))", sourceLocation: sourceLocation)
        // Outside its path scope the agent is refused, as a tool error it can read; nothing leaks.
        #expect(failed(6) && text(6).contains("permission_denied"), "\(text(6))", sourceLocation: sourceLocation)
        #expect(failed(7) && !text(7).contains("1000000"), "\(text(7))", sourceLocation: sourceLocation)
        // Nor through a search, a Run's inputs or a glob delete: no match, no content, nothing removed.
        #expect(!failed(8) && text(8) == "(no match)", "\(text(8))", sourceLocation: sourceLocation)
        #expect(failed(9) && !text(9).contains("1000000"), "\(text(9))", sourceLocation: sourceLocation)
        #expect(!text(10).contains("plan.json") || failed(10), "\(text(10))", sourceLocation: sourceLocation)
    }

    @Test(
        "stdio: `cairn mcp` as the agent; eight tools; the calls recorded in order; a denied write audited; the change waits for a person's approval"
    )
    func stdioSession() async throws {
        let (server, admin, agent) = try await Self.setUp()
        let answer = try await Self.session([
            "stdio": [
                "command": CLIHarness.binDirectory.appendingPathComponent("cairn").path,
                "args": ["mcp", "-p", "city", "--on-behalf-of", "user:ana"],
                "env": server.cli.storeEnvironment.merging(["CAIRN_TOKEN": agent]) { $1 },
            ]
        ])
        Self.checkSession(answer)
        try await Self.checkRecordAndApproval(server, admin: admin)
        try await Self.checkReplay(server, admin: admin)
    }

    /// The official client escalates to SIGTERM when a stdio server is slow to exit after stdin
    /// closes (2 s; a loaded machine can take longer). The signal ends the session as closing it
    /// does: here the client still holds stdin open, and the run goes up for review, not
    /// `interrupted`; nothing the agent did is lost.
    @Test("stdio: SIGTERM from the client ends the session as closing it does: the change waits for approval, the run is not interrupted")
    func stdioSessionEndsOnSIGTERM() async throws {
        let (server, admin, agent) = try await Self.setUp()
        let pauses = try SessionPauses()
        let session = try BackgroundSession([
            "stdio": [
                "command": CLIHarness.binDirectory.appendingPathComponent("cairn").path,
                "args": ["mcp", "-p", "city", "--on-behalf-of", "user:ana"],
                "env": server.cli.storeEnvironment.merging(["CAIRN_TOKEN": agent]) { $1 },
            ],
            "calls": [Self.plan[3], pauses.at("terminate")],
        ])
        var run: [String: Any] = [:]
        try await pauses.when(
            "terminate",
            children: { children in
                let stdioServer = try #require(children.first, "the client's stdio server is not among its children")
                #expect(kill(stdioServer, SIGTERM) == 0)
                run = try await Self.endedRun(server, admin: admin, project: "city")
            }
        )
        _ = try await session.answer()
        #expect(run["status"] as? String == "awaiting_approval", "\(run)")
        #expect((run["calls"] as? [[String: Any]])?.compactMap { $0["tool"] as? String } == ["Edit"])
        let number = try #require(run["mergeRequest"] as? Int, "\(run)")
        let mr = try await server.request("GET", "/v1/orgs/default/projects/city/merge-requests/\(number)", token: admin)
        #expect(mr.status == 200 && mr.text.contains(run["branch"] as? String ?? "-"), "\(mr.text)")
    }

    /// Replaying the run reproduces every answer; once the launcher's grant is removed, or the
    /// agent's key revoked, a what-if replay flags every call that was allowed as now denied.
    static func checkReplay(_ server: ServerHarness, admin: String) async throws {
        let p = "/v1/orgs/default/projects/city"
        let id = try #require(
            (try await server.request("GET", p + "/agent-runs", token: admin).json["runs"] as? [[String: Any]])?.last?["id"] as? String
        )
        let replay = try await server.request("POST", p + "/agent-runs/\(id)/replay", token: admin)
        #expect(replay.status == 200 && replay.json["identical"] as? Bool == true, "\(replay.text)")
        #expect((replay.json["steps"] as? [Any])?.count == plan.count && (replay.json["wouldNowBeDenied"] as? [Int]) == [])
        // What-if: with Ana's grant removed, every call she launched that was allowed would now be refused.
        #expect(try await server.request("DELETE", "/v1/orgs/default/members/user:ana", token: admin).status == 204)
        let withoutAna = try await server.request("POST", p + "/agent-runs/\(id)/replay", token: admin)
        let allowed = (replay.json["steps"] as? [[String: Any]] ?? []).filter { $0["recordedDecision"] as? String == "allowed" }.compactMap
        { $0["seq"] as? Int }
        #expect(withoutAna.json["wouldNowBeDenied"] as? [Int] == allowed && !allowed.isEmpty, "\(withoutAna.text)")
        // And with the agent's own key revoked.
        let keys = try await server.request("GET", "/v1/orgs/default/keys", token: admin).json["keys"] as? [[String: Any]] ?? []
        let key = try #require(keys.first { $0["subject"] as? String == "agent:planner" }?["id"] as? String)
        #expect(try await server.request("DELETE", "/v1/orgs/default/keys/\(key)", token: admin).status == 200)
        let whatIf = try await server.request("POST", p + "/agent-runs/\(id)/replay", token: admin)
        #expect(whatIf.json["wouldNowBeDenied"] as? [Int] == allowed, "\(whatIf.text)")
    }

    @Test("HTTP: the same session over streamable HTTP at /v1/mcp with a bearer token; closing it ends the run")
    func httpSession() async throws {
        let (server, admin, agent) = try await Self.setUp()
        let answer = try await Self.session(["http": ["url": server.base + "/v1/mcp?project=city&onBehalfOf=user:ana", "token": agent]])
        Self.checkSession(answer)
        try await Self.checkRecordAndApproval(server, admin: admin)
        // Without a valid bearer token there is no session.
        #expect(
            try await server.request(
                "POST",
                "/v1/mcp?project=city",
                token: "cairn_not-a-key",
                json: ["jsonrpc": "2.0", "id": 1, "method": "initialize"]
            ).status == 401
        )
    }

    /// The run's record lists every call in order with its decision, what it read and what it
    /// committed; main is protected, so the run ended in a merge request; a person approves it.
    /// The project's latest agent run, once its status is no longer `running` (or after 20 s).
    static func endedRun(_ server: ServerHarness, admin: String, project: String) async throws -> [String: Any] {
        var run: [String: Any] = [:]
        for _ in 0..<400 {
            let runs = try await server.request("GET", "/v1/orgs/default/projects/\(project)/agent-runs", token: admin)
            run = (runs.json["runs"] as? [[String: Any]])?.last ?? [:]
            if let status = run["status"] as? String, status != "running" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return run
    }

    static func checkRecordAndApproval(_ server: ServerHarness, admin: String) async throws {
        // The run ends when the client closes the session: wait for that to be recorded.
        let run = try await endedRun(server, admin: admin, project: "city")
        #expect(run["agent"] as? String == "agent:planner" && run["onBehalfOf"] as? String == "user:ana")
        let calls = run["calls"] as? [[String: Any]] ?? []
        #expect(calls.compactMap { $0["tool"] as? String } == plan.compactMap { $0["tool"] as? String })
        #expect(calls.compactMap { $0["seq"] as? Int } == Array(1...plan.count))
        #expect((calls.first?["reads"] as? [[String: Any]])?.first?["path"] as? String == "fiber/cabinets/1.json")
        #expect((calls[3]["commits"] as? [String])?.count == 1 && calls[6]["decision"] as? String == "denied")
        // The secret file is untouched on the run's branch too.
        let secret = try await server.request(
            "GET",
            "/v1/orgs/default/projects/city/files/secret/plan.json?raw=true&ref=\(run["branch"] as? String ?? "")",
            token: admin
        )
        #expect(secret.status == 200 && secret.text.contains("1000000"))
        #expect(run["status"] as? String == "awaiting_approval", "\(run)")
        let audit = try await server.request("GET", "/v1/orgs/default/audit?limit=1000", token: admin)
        #expect(audit.text.contains("\"outcome\":\"denied\"") && audit.text.contains("agent:planner"))
        let number = try #require(run["mergeRequest"] as? Int)
        let mr = "/v1/orgs/default/projects/city/merge-requests/\(number)"
        #expect(
            try await server.request("POST", mr + "/reviews", token: admin, json: ["verdict": "approve", "rationale": "checked the ports"])
                .status == 200
        )
        #expect(try await server.request("POST", mr + "/merge", token: admin, json: [:]).status == 200)
        let merged = try await server.request("GET", "/v1/orgs/default/projects/city/files/fiber/cabinets/1.json?raw=true", token: admin)
        #expect(merged.text.contains("\"ports\":32"))
        // Lineage: the value on main leads back to the run, its Edit call, what it had read, and the approval.
        let lineage = try await server.request(
            "GET",
            "/v1/orgs/default/projects/city/lineage?path=fiber/cabinets/1.json&pointer=/properties/ports",
            token: admin
        )
        #expect(lineage.status == 200 && lineage.json["run"] as? String == run["id"] as? String, "\(lineage.text)")
        #expect(
            (lineage.json["call"] as? [String: Any])?["tool"] as? String == "Edit" && lineage.json["agent"] as? String == "agent:planner"
        )
        #expect((lineage.json["readBefore"] as? [[String: Any]])?.first?["path"] as? String == "fiber/cabinets/1.json")
        let reviews = (lineage.json["mergeRequest"] as? [String: Any])?["reviews"] as? [[String: Any]] ?? []
        #expect(
            reviews.contains { $0["verdict"] as? String == "approve" && $0["rationale"] as? String == "checked the ports" },
            "\(lineage.text)"
        )
    }

    @Test(
        "two sessions at once on an unprotected branch: disjoint edits both merge; the same member edited by both is a reported conflict, nothing lost; rolling back a run restores the tree exactly"
    )
    func concurrentSessionsAndRollback() async throws {
        let (server, admin, agent) = try await Self.setUp()
        let p = "/v1/orgs/default/projects/city"
        #expect(try await server.request("POST", p + "/branches", token: admin, json: ["name": "draft", "from": "main"]).status == 201)
        func tree(_ ref: String) async throws -> String {
            let shown = try await server.request("GET", p + "/commits/\(ref)", token: admin)
            return try #require((shown.json["commit"] as? [String: Any])?["tree"] as? String, "\(shown.text)")
        }
        let before = try await tree("draft")
        func edit(_ path: String, _ old: String, _ new: String) -> [String: Any] {
            ["tool": "Edit", "arguments": ["path": path, "old": old, "new": new, "reason": "plan"]]
        }
        let url = server.base + "/v1/mcp?project=city&branch=draft"
        func sessions(_ a: [String: Any], _ b: [String: Any]) async throws -> [[String: Any]] {
            let answer = try await PythonReference.run(
                "Tests/CairnCLITests/Support/python/mcp_session.py",
                [
                    "sessions": [
                        ["http": ["url": url, "token": agent], "calls": [a]], ["http": ["url": url, "token": agent], "calls": [b]],
                    ]
                ]
            )
            return answer["sessions"] as? [[String: Any]] ?? []
        }
        func runs() async throws -> [[String: Any]] {
            for _ in 0..<200 {
                let list = try await server.request("GET", p + "/agent-runs", token: admin).json["runs"] as? [[String: Any]] ?? []
                if list.allSatisfy({ $0["status"] as? String != "running" }) { return list }
                try await Task.sleep(for: .milliseconds(50))
            }
            return []
        }
        // Disjoint: both merge.
        let disjoint = try await sessions(
            edit("fiber/cabinets/1.json", #""ports":24"#, #""ports":30"#),
            edit("fiber/cabinets/2.json", #""ports":48"#, #""ports":64"#)
        )
        #expect(disjoint.count == 2 && disjoint.allSatisfy { (($0["results"] as? [[String: Any]])?.first?["isError"] as? Bool) == false })
        var list = try await runs()
        #expect(list.count == 2 && list.allSatisfy { $0["status"] as? String == "merged" }, "\(list) \(disjoint)")
        let draft = { (path: String) async throws -> String in
            try await server.request("GET", p + "/files/\(path)?raw=true&ref=draft", token: admin).text
        }
        let one = try await draft("fiber/cabinets/1.json")
        let two = try await draft("fiber/cabinets/2.json")
        #expect(one.contains("\"ports\":30") && two.contains("\"ports\":64"))
        // The same member: one merges, the other is reported as a conflict and its branch kept.
        _ = try await sessions(
            edit("fiber/cabinets/1.json", #""ports":30"#, #""ports":36"#),
            edit("fiber/cabinets/1.json", #""ports":30"#, #""ports":40"#)
        )
        list = try await runs()
        let last = Array(list.suffix(2))
        #expect(Set(last.compactMap { $0["status"] as? String }) == ["merged", "conflicts"], "\(last)")
        let loser = try #require(last.first { $0["status"] as? String == "conflicts" })
        let kept = try await server.request(
            "GET",
            p + "/files/fiber/cabinets/1.json?raw=true&ref=\(loser["branch"] as? String ?? "")",
            token: admin
        ).text
        let won = try await draft("fiber/cabinets/1.json")
        #expect(
            (kept.contains("\"ports\":36") || kept.contains("\"ports\":40"))
                && (won.contains("\"ports\":36") || won.contains("\"ports\":40")) && kept != won
        )
        // Rolling back the three merged runs, newest first, gives back the tree the branch had.
        for run in list.filter({ $0["status"] as? String == "merged" }).reversed() {
            let undone = try await server.request("POST", p + "/agent-runs/\(run["id"] as? String ?? "")/rollback", token: admin)
            #expect(undone.status == 200 && undone.json["status"] as? String == "rolled_back", "\(undone.text)")
        }
        #expect(try await tree("draft") == before)
        // The conflicted run, not merged: its branch is discarded.
        #expect(try await server.request("POST", p + "/agent-runs/\(loser["id"] as? String ?? "")/rollback", token: admin).status == 200)
        #expect(
            try await server.request(
                "GET",
                p + "/files/fiber/cabinets/1.json?raw=true&ref=\(loser["branch"] as? String ?? "")",
                token: admin
            ).status == 404
        )
    }

    @Test("the project's feed carries a run's start, each call as it is made, and its end, live")
    func liveCalls() async throws {
        let (server, admin, agent) = try await Self.setUp()
        let text = try await ServerFeedAndLimitsTests.feed(
            server,
            org: "default",
            project: "city",
            token: admin,
            until: { $0.contains("agent.run.finish") }
        ) {
            _ = try await PythonReference.run(
                "Tests/CairnCLITests/Support/python/mcp_session.py",
                [
                    "http": ["url": server.base + "/v1/mcp?project=city&onBehalfOf=user:ana", "token": agent],
                    "calls": [
                        ["tool": "Read", "arguments": ["path": "fiber/cabinets/1.json"]],
                        ["tool": "Glob", "arguments": ["pattern": "fiber/**"]],
                    ],
                ]
            )
        }
        let events = ServerFeedAndLimitsTests.events(text, named: "change").filter {
            ($0["action"] as? String ?? "").hasPrefix("agent.run.")
        }
        #expect(
            events.compactMap { $0["action"] as? String } == ["agent.run.start", "agent.run.call", "agent.run.call", "agent.run.finish"],
            "\(events)"
        )
        #expect(
            events.compactMap { $0["tool"] as? String } == ["Read", "Glob"] && Set(events.compactMap { $0["run"] as? String }).count == 1
        )
    }

    @Test("a child run works on its parent's branch, merges back into it, and can never gain authority")
    func childRun() async throws {
        let (server, admin, planner) = try await Self.setUp()
        // The helper's own key could read everything in the project; as the planner's child it cannot.
        let minted = try await server.request(
            "POST",
            "/v1/orgs/default/keys",
            token: admin,
            json: ["kind": "agent", "subject": "agent:helper", "role": "designer", "project": "city"]
        )
        let helper = try #require(minted.json["token"] as? String)
        let url = server.base + "/v1/mcp?project=city&onBehalfOf=user:ana"
        let answer = try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/mcp_session.py",
            [
                "sessions": [
                    [
                        "http": ["url": url, "token": planner],
                        "calls": [["tool": "Read", "arguments": ["path": "fiber/cabinets/2.json"]]],
                    ],
                    [
                        "http": ["url": url, "token": helper], "childOf": 0,
                        "calls": [
                            ["tool": "Read", "arguments": ["path": "secret/plan.json"]],
                            [
                                "tool": "Edit",
                                "arguments": [
                                    "path": "fiber/cabinets/2.json", "old": #""ports":48"#, "new": #""ports":96"#,
                                    "reason": "the helper's part",
                                ],
                            ],
                        ],
                    ],
                ]
            ]
        )
        let sessions = answer["sessions"] as? [[String: Any]] ?? []
        let child = sessions.last?["results"] as? [[String: Any]] ?? []
        #expect(
            child.first?["isError"] as? Bool == true && (child.first?["text"] as? String ?? "").contains("agent:planner, whose run"),
            "\(child)"
        )
        #expect(child.last?["isError"] as? Bool == false, "\(child)")
        let p = "/v1/orgs/default/projects/city"
        let parentID = try #require(sessions.first?["run"] as? String)
        let childID = try #require(sessions.last?["run"] as? String)
        var childRun: [String: Any] = [:]
        var parentRun: [String: Any] = [:]
        for _ in 0..<200 {
            childRun = try await server.request("GET", p + "/agent-runs/\(childID)", token: admin).json
            parentRun = try await server.request("GET", p + "/agent-runs/\(parentID)", token: admin).json
            if parentRun["status"] as? String != "running" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(
            childRun["parent"] as? String == parentID && childRun["target"] as? String == parentRun["branch"] as? String
                && childRun["status"] as? String == "merged",
            "\(childRun)"
        )
        // The child's change is in the parent's work, which waits for approval into main.
        #expect(parentRun["status"] as? String == "awaiting_approval", "\(parentRun)")
        let onParent = try await server.request(
            "GET",
            p + "/files/fiber/cabinets/2.json?raw=true&ref=\(parentRun["branch"] as? String ?? "")",
            token: admin
        )
        #expect(onParent.text.contains("\"ports\":96"))
    }

    @Test(
        "an HTTP session left idle is closed and its run ended by the recovery policy: interrupted by default, as if closed with merge",
        arguments: [("", "interrupted"), ("merge", "completed")]
    )
    func idleSessionsEnd(policy: String, expected: String) async throws {
        var environment = ["CAIRN_MCP_IDLE_SECONDS": "1"]
        if !policy.isEmpty { environment["CAIRN_RUN_RECOVERY"] = policy }
        let server = try await ServerHarness(environment: environment)
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "city"]).status == 201)
        let id = try await server.openMCPSession("project=city", token: admin)
        var status = "running"
        for _ in 0..<300 where status == "running" {
            try await Task.sleep(for: .milliseconds(100))
            status =
                try await server.request("GET", "/v1/orgs/default/projects/city/agent-runs/\(id)", token: admin).json["status"] as? String
                ?? "?"
        }
        #expect(status == expected, "an idle session's run ends \(expected) under policy '\(policy)', not \(status)")
        // Its session is gone: a later request with its id is refused.
        let late = try await server.request(
            "POST",
            "/v1/mcp?project=city",
            token: admin,
            json: ["jsonrpc": "2.0", "id": 1, "method": "tools/list"],
            headers: ["Accept": "application/json, text/event-stream", "Mcp-Session-Id": id]
        )
        #expect(late.status == 404)
    }

    @Test("an agent never does more than the person it acts for: launched by a viewer, it reads but cannot edit")
    func boundedByTheLauncher() async throws {
        let (server, _, agent) = try await Self.setUp()
        let answer = try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/mcp_session.py",
            [
                "http": ["url": server.base + "/v1/mcp?project=city&onBehalfOf=user:vera", "token": agent],
                "calls": [
                    ["tool": "Read", "arguments": ["path": "fiber/cabinets/1.json"]],
                    [
                        "tool": "Edit",
                        "arguments": [
                            "path": "fiber/cabinets/1.json", "old": #""ports":24"#, "new": #""ports":32"#, "reason": "more ports",
                        ],
                    ],
                ],
            ]
        )
        let results = answer["results"] as? [[String: Any]] ?? []
        #expect(results.first?["isError"] as? Bool == false)
        #expect(
            results.last?["isError"] as? Bool == true
                && (results.last?["text"] as? String ?? "").contains("user:vera, for whom this agent acts, may not write"),
            "\(results)"
        )
    }
}
