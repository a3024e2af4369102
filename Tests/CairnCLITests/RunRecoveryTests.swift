import CairnTestSupport
import Foundation
import Testing

/// Runs survive what happens to their servers (issue 18): a call and its record are one, under
/// concurrency, a refused record write and a SIGKILL; a run belongs to the server holding its
/// lease, and one whose server died is ended by the recovery policy, by the next server to start
/// or by another sharing the store, never while its server lives.
@Suite struct RunRecoveryTests {
    static let api = "/v1/orgs/default"

    /// A server (with `environment`) on a project `city` with an unprotected branch `work`, and a designer agent's key.
    static func setUp(_ environment: [String: String] = [:]) async throws -> (ServerHarness, admin: String, agent: String) {
        let server = try await ServerHarness(environment: environment)
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "\(api)/projects", token: admin, json: ["name": "city"]).status == 201)
        #expect(server.cli.run("write", "sites/a.json", "-p", "city", "--content", #"{"capacity":10}"#, "-m", "seed").status == 0)
        // Agents' changes merge straight into `work` (main is protected), so a run's effect is plain to see.
        #expect(
            try await server.request("POST", "\(api)/projects/city/branches", token: admin, json: ["name": "work", "from": "main"]).status
                == 201
        )
        let minted = try await server.request(
            "POST",
            "\(api)/keys",
            token: admin,
            json: ["kind": "agent", "subject": "agent:p", "role": "designer", "project": "city"]
        )
        return (server, admin, try #require(minted.json["token"] as? String, "\(minted.text)"))
    }

    static func run(_ server: ServerHarness, _ admin: String, _ id: String) async throws -> [String: Any] {
        try await server.request("GET", "\(api)/projects/city/agent-runs/\(id)", token: admin).json
    }

    /// Waits (up to `seconds`, and at least 10 looks) for the run to leave `running`. Under the
    /// whole suite this test process can be starved for many seconds between two looks, so a
    /// deadline alone could expire after one look taken before the server acted.
    static func ended(_ server: ServerHarness, _ admin: String, _ id: String, within seconds: Double = 120) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        var shown: [String: Any] = [:]
        var looks = 0
        repeat {
            shown = try await run(server, admin, id)
            looks += 1
            if let status = shown["status"] as? String, status != "running" { return shown }
            try await Task.sleep(for: .milliseconds(200))
        } while Date() < deadline || looks < 10
        return shown
    }

    /// What a server logged about runs and leases (for a failure's message).
    static func engineLog(_ server: ServerHarness) -> String {
        server.startupOutput.split(separator: "\n").filter { $0.contains("cairn.engine") || $0.contains("lease") || $0.contains("orphan") }
            .suffix(20)
            .joined(separator: "\n")
    }

    /// The MCP endpoint for sessions on `work`.
    static func url(_ server: ServerHarness) -> String { server.base + "/v1/mcp?project=city&branch=work" }

    /// The commit a ref names now.
    static func head(_ server: ServerHarness, _ admin: String, _ ref: String) async throws -> String? {
        let encoded = ref.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ref
        return (try await server.request("GET", "\(api)/projects/city/commits/\(encoded)", token: admin).json["commit"] as? [String: Any])?[
            "id"
        ] as? String
    }

    /// The paths under `prefix` on a ref, all pages.
    static func paths(_ server: ServerHarness, _ admin: String, ref: String, prefix: String) async throws -> [String] {
        let encoded = ref.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ref
        let r = try await server.request("GET", "\(api)/projects/city/glob?pattern=\(prefix)**&ref=\(encoded)&limit=1000", token: admin)
        #expect(r.status == 200 && r.json["next"] == nil, "\(r.text)")
        return r.json["paths"] as? [String] ?? []
    }

    static func writes(_ n: Int, folder: String) -> [[String: Any]] {
        (0..<n).map {
            ["tool": "Write", "arguments": ["path": "\(folder)/\($0).json", "content": #"{"n":\#($0)}"#, "reason": "step \($0)"]]
        }
    }

    // MARK: A call and its record are one

    @Test("two sessions of 200 calls each at once: each run's history is exactly the calls its agent was answered for, in order")
    func concurrentSessionsRecordEveryAnsweredCall() async throws {
        let (server, admin, agent) = try await Self.setUp()
        func plan(_ folder: String) -> [[String: Any]] {
            (0..<200).map { i -> [String: Any] in
                switch i % 4 {
                case 0: ["tool": "Write", "arguments": ["path": "\(folder)/\(i).json", "content": #"{"n":\#(i)}"#, "reason": "step \(i)"]]
                case 1: ["tool": "Read", "arguments": ["path": "\(folder)/\(i - 1).json"]]
                case 2: ["tool": "Glob", "arguments": ["pattern": "\(folder)/**"]]
                default:
                    [
                        "tool": "Edit",
                        "arguments": [
                            "path": "\(folder)/\(i - 3).json", "old": #""n":\#(i - 3)"#, "new": #""n":\#(i - 3),"edited":true"#,
                            "reason": "edit \(i)",
                        ],
                    ]
                }
            }
        }
        let plans = [plan("east"), plan("west")]
        let answer = try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/mcp_session.py",
            ["sessions": plans.map { ["http": ["url": Self.url(server), "token": agent], "calls": $0] }]
        )
        let sessions = answer["sessions"] as? [[String: Any]] ?? []
        #expect(sessions.count == 2)
        for (k, session) in sessions.enumerated() {
            let results = session["results"] as? [[String: Any]] ?? []
            #expect(
                results.count == 200 && results.allSatisfy { $0["isError"] as? Bool == false },
                "session \(k): \(results.filter { $0["isError"] as? Bool == true }.prefix(3))"
            )
            let id = try #require(session["run"] as? String)
            let shown = try await Self.ended(server, admin, id)
            #expect(shown["status"] as? String == "merged", "\(shown["status"] ?? "") \(shown["message"] ?? "")")
            let calls = shown["calls"] as? [[String: Any]] ?? []
            #expect(calls.compactMap { $0["seq"] as? Int } == Array(1...200))
            #expect(calls.compactMap { $0["tool"] as? String } == plans[k].compactMap { $0["tool"] as? String })
            // Every committing call names its commit; the read calls name none.
            #expect(
                calls.allSatisfy { (($0["commits"] as? [String])?.count == 1) == ["Write", "Edit"].contains($0["tool"] as? String ?? "") }
            )
        }
        #expect(try await Self.paths(server, admin, ref: "work", prefix: "east/").count == 50)
        #expect(try await Self.paths(server, admin, ref: "work", prefix: "west/").count == 50)
    }

    @Test(
        "when the store refuses a call's record, the call fails, says why, and its branch does not move; once it accepts again, calls go on"
    )
    func refusedRecordFailsTheCall() async throws {
        let (server, admin, agent) = try await Self.setUp()
        let pauses = try SessionPauses()
        let calls: [[String: Any]] = [
            ["tool": "Write", "arguments": ["path": "sites/before.json", "content": "{}", "reason": "before the fault"]],
            pauses.at("fault"),
            ["tool": "Write", "arguments": ["path": "sites/during.json", "content": "{}", "reason": "during the fault"]],
            ["tool": "Read", "arguments": ["path": "sites/a.json"]],
            pauses.at("mended"),
            ["tool": "Write", "arguments": ["path": "sites/after.json", "content": "{}", "reason": "after the fault"]],
        ]
        let session = try BackgroundSession(["http": ["url": Self.url(server), "token": agent], "calls": calls])
        var running: [String: Any] = [:]
        var branch = ""
        var head: String?
        try await pauses.when("fault") { () async throws in
            running = try #require(
                (try await server.request("GET", "\(Self.api)/projects/city/agent-runs", token: admin).json["runs"] as? [[String: Any]])?
                    .first { $0["status"] as? String == "running" }
            )
            branch = try #require(running["branch"] as? String)
            head = try await Self.head(server, admin, branch)
            #expect(head != nil)
            // From now on the store refuses every call record: no call's record can be written
            // (the run's own branch moves only with its record, in one transaction).
            #expect(
                try server.cli.tamper(
                    sqlite: "CREATE TRIGGER refuse_records BEFORE INSERT ON run_call BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
                    postgres: """
                        CREATE FUNCTION refuse_records() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$ LANGUAGE plpgsql;
                        CREATE TRIGGER refuse_records BEFORE INSERT ON run_call FOR EACH ROW EXECUTE FUNCTION refuse_records();
                        """
                ) == 0
            )
        }
        try await pauses.when("mended") { () async throws in
            #expect(try await Self.head(server, admin, branch) == head, "the run's branch moved")
            #expect(
                try server.cli.tamper(
                    sqlite: "DROP TRIGGER refuse_records;",
                    postgres: "DROP TRIGGER refuse_records ON run_call; DROP FUNCTION refuse_records();"
                ) == 0
            )
        }
        let results = try await session.answer()["results"] as? [[String: Any]] ?? []
        #expect(results.count == 4)
        func text(_ i: Int) -> String { results.indices.contains(i) ? results[i]["text"] as? String ?? "" : "" }
        #expect(results.first?["isError"] as? Bool == false)
        for i in [1, 2] {
            #expect(
                results[i]["isError"] as? Bool == true && text(i).contains("could not be recorded") && !text(i).contains("injected fault"),
                "\(text(i))"
            )
        }
        #expect(results.last?["isError"] as? Bool == false, "\(text(3))")
        let shown = try await Self.ended(server, admin, try #require(running["id"] as? String))
        // The history holds the calls that were made: not the two refused ones.
        let recorded = (shown["calls"] as? [[String: Any]] ?? []).map { (($0["arguments"] as? [String: Any])?["path"] as? String ?? "") }
        #expect(recorded == ["sites/before.json", "sites/after.json"], "\(shown)")
        let work = try await Self.paths(server, admin, ref: "work", prefix: "sites/")
        #expect(work.contains("sites/before.json") && work.contains("sites/after.json") && !work.contains("sites/during.json"), "\(work)")
    }

    // MARK: Restart recovery

    @Test(
        "a server killed in the middle of a run: after restart the run is interrupted, its record holds every answered call, its branch exactly the recorded writes"
    )
    func killedMidRun() async throws {
        let (server, admin, agent) = try await Self.setUp()
        // The client kills the server itself, with its 26th call in flight: the kill lands in the
        // middle of the run however busy the machine is.
        let answer = try await BackgroundSession([
            "http": ["url": Self.url(server), "token": agent], "calls": Self.writes(400, folder: "kill"),
            "kill": ["pid": Int(server.process.processIdentifier), "after": 25], "tolerateLoss": true,
        ]).answer()
        server.process.waitUntilExit()
        let answeredBeforeKill = 25
        let results = answer["results"] as? [[String: Any]] ?? []
        let id = try #require(answer["run"] as? String)
        #expect(
            answer["lost"] != nil && results.count >= answeredBeforeKill && results.count < 400,
            "\(results.count) answered, lost: \(answer["lost"] ?? "nothing")"
        )
        #expect(results.allSatisfy { $0["isError"] as? Bool == false })

        // The next server on the same store sees the dead one's lease at once (same machine).
        let restarted = try await ServerHarness(sharing: server.cli)
        let shown = try await Self.ended(restarted, admin, id)
        #expect(
            shown["status"] as? String == "interrupted",
            "\(shown["status"] ?? "none"): \(shown["message"] ?? ""); the server logged: \(Self.engineLog(restarted))"
        )
        let calls = shown["calls"] as? [[String: Any]] ?? []
        // Every answered call is recorded; at most one more, the call in flight at the kill,
        // committed with its record but never answered.
        #expect(calls.count >= results.count && calls.count <= results.count + 1, "\(calls.count) recorded, \(results.count) answered")
        #expect(calls.compactMap { $0["seq"] as? Int } == Array(1...max(1, calls.count)))
        let recorded = Set(calls.compactMap { ($0["arguments"] as? [String: Any])?["path"] as? String })
        let branch = try #require(shown["branch"] as? String)
        #expect(Set(try await Self.paths(restarted, admin, ref: branch, prefix: "kill/")) == recorded)
        #expect(try await Self.paths(restarted, admin, ref: "work", prefix: "kill/").isEmpty, "an interrupted run merges nothing")
    }

    @Test(
        "servers sharing a store: a live run is never ended by another server; a frozen server's runs are recovered once its lease lapses, and its session then refuses calls"
    )
    func leasesAcrossServers() async throws {
        guard TestBackend.isPostgres else { return }  // Only a PostgreSQL store is shared by several servers.
        let lease = ["CAIRN_RUN_LEASE_SECONDS": "4"]
        let (a, admin, agent) = try await Self.setUp(lease)
        let b = try await ServerHarness(environment: lease, sharing: a.cli)
        let id = try await a.openMCPSession("project=city&branch=work", token: agent)
        var n = 0
        func write(_ path: String) async throws -> ServerHarness.Reply {
            n += 1
            let call: [String: Any] = [
                "jsonrpc": "2.0", "id": n, "method": "tools/call",
                "params": ["name": "Write", "arguments": ["path": path, "content": "{}", "reason": "lease test"]],
            ]
            return try await a.request(
                "POST",
                "/v1/mcp?project=city&branch=work",
                token: agent,
                json: call,
                headers: ServerHarness.mcpAccept.merging(["Mcp-Session-Id": id]) { $1 }
            )
        }
        #expect(try await write("sites/one.json").text.contains("committed"))
        // Several of b's sweeps (every 4/3 s) later, the run a holds is still running and working.
        try await Task.sleep(for: .seconds(6))
        #expect(try await Self.run(b, admin, id)["status"] as? String == "running")
        let second = try await write("sites/two.json")
        #expect(second.text.contains("committed"), "\(second.text)")

        // Frozen, a stops renewing; its process lives, so only the lapse frees its run.
        kill(a.process.processIdentifier, SIGSTOP)
        let shown: [String: Any]
        do {
            defer { kill(a.process.processIdentifier, SIGCONT) }
            shown = try await Self.ended(b, admin, id)
        }
        #expect(
            shown["status"] as? String == "interrupted",
            "\(shown["status"] ?? "none"): \(shown["message"] ?? ""); b logged: \(Self.engineLog(b))"
        )
        #expect((shown["calls"] as? [[String: Any]])?.count == 2)
        // Awake again, a learns before its session's next call acts that the run is no longer
        // its own: a lease not renewed for half its life is renewed first.
        let late = try await write("sites/three.json")
        #expect(late.text.contains("has ended"), "\(late.text)")
        let branch = try #require(shown["branch"] as? String)
        #expect(Set(try await Self.paths(b, admin, ref: branch, prefix: "sites/")) == ["sites/a.json", "sites/one.json", "sites/two.json"])
    }
}
