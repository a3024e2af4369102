import CairnTestSupport
import Foundation
import Testing

/// Workflows through the surfaces a person uses: HTTP (in the OpenAPI document) and the CLI,
/// on a live server: definitions validated with every problem named, enabling by a person,
/// manual runs with inputs, and a server killed in the middle of a run.
@Suite struct WorkflowSurfaceTests {
    static let api = "/v1/orgs/default/projects/city"

    static var plan: [String: Any] {
        [
            "scope": ["role": "designer", "path": "plans/**"],
            "inputs": ["date": ["type": "string", "required": true]],
            "triggers": [["kind": "manual"]],
            "steps": [
                ["id": "site", "kind": "Read", "arguments": ["path": "plans/base.json"]],
                [
                    "id": "plan", "kind": "Write",
                    "arguments": ["path": "plans/{{inputs.date}}.json", "content": #"{"crews": {{steps.site.value.crews}}}"#],
                ],
            ],
        ]
    }

    static func setUp() async throws -> (ServerHarness, String) {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "city"]).status == 201)
        #expect(server.cli.run("write", "plans/base.json", "-p", "city", "--content", #"{"crews":3}"#, "-m", "seed").status == 0)
        return (server, admin)
    }

    static func ended(_ server: ServerHarness, _ token: String, _ name: String, _ id: String) async throws -> [String: Any] {
        for _ in 0..<3000 {
            let r = try await server.request("GET", "\(api)/workflows/\(name)/runs/\(id)", token: token)
            if r.json["finished"] != nil { return r.json }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CairnTestError("workflow run \(id) did not end")
    }

    @Test("define (every problem named), enable as a person, run with inputs over HTTP; the CLI reads the same runs")
    func defineEnableRun() async throws {
        let (server, admin) = try await Self.setUp()
        let bad = try await server.request(
            "PUT",
            "\(Self.api)/workflows/plan",
            token: admin,
            json: [
                "definition": [
                    "scope": ["role": "designer"], "triggers": [["kind": "cron", "schedule": "61 * * *"]],
                    "steps": [["id": "a", "kind": "Teleport"], ["id": "b", "kind": "Write", "arguments": ["path": "{{steps.z.value}}"]]],
                ]
            ]
        )
        #expect(bad.status == 422 && bad.errorCode == "invalid_workflow", "\(bad.text)")
        let pointers = Set(
            ((bad.json["error"] as? [String: Any])?["violations"] as? [[String: Any]] ?? []).compactMap { $0["pointer"] as? String }
        )
        #expect(pointers.isSuperset(of: ["/triggers/0/schedule", "/steps/0/kind", "/steps/1/arguments/path"]), "\(pointers)")
        // The same check guards the file itself, whatever surface writes it.
        let direct = server.cli.run("write", ".cairn/workflows/x.json", "-p", "city", "--content", #"{"steps": []}"#)
        #expect(direct.status != 0 && direct.stderr.contains("invalid_workflow"), "\(direct.stderr)")

        let put = try await server.request(
            "PUT",
            "\(Self.api)/workflows/plan",
            token: admin,
            json: ["definition": Self.plan, "message": "crew plan"]
        )
        #expect(put.status == 200, "\(put.text)")
        let notYet = try await server.request("POST", "\(Self.api)/workflows/plan/runs", token: admin, json: ["inputs": ["date": "d1"]])
        #expect(notYet.status == 409, "\(notYet.text)")

        // A viewer may not enable it, nor start it.
        #expect(try await server.request("PUT", "/v1/orgs/default/members/user:vera", token: admin, json: ["role": "viewer"]).status == 200)
        let vera = try #require(
            try await server.request("POST", "/v1/orgs/default/keys", token: admin, json: ["subject": "user:vera", "role": "viewer"]).json[
                "token"
            ]
                as? String
        )
        #expect(try await server.request("POST", "\(Self.api)/workflows/plan/enable", token: vera).status == 403)
        let enabled = try await server.request("POST", "\(Self.api)/workflows/plan/enable", token: admin, json: ["message": "go"])
        #expect(enabled.status == 200 && enabled.json["enabled"] as? Bool == true && enabled.json["enabledBy"] != nil, "\(enabled.text)")
        #expect(
            try await server.request("POST", "\(Self.api)/workflows/plan/runs", token: vera, json: ["inputs": ["date": "d1"]]).status == 403
        )

        // Inputs are checked: a missing one is named.
        let missing = try await server.request(
            "POST",
            "\(Self.api)/workflows/plan/runs",
            token: admin,
            json: ["inputs": [:] as [String: Any]]
        )
        #expect(missing.status == 400 && missing.text.contains("date"), "\(missing.text)")

        let started = try await server.request(
            "POST",
            "\(Self.api)/workflows/plan/runs",
            token: admin,
            json: ["inputs": ["date": "2027-03-27"]]
        )
        #expect(started.status == 202 && started.json["status"] as? String == "fired", "\(started.text)")
        let id = try #require(started.json["id"] as? String)
        let run = try await Self.ended(server, admin, "plan", id)
        #expect(run["status"] as? String == "succeeded", "\(run)")
        // main is protected by default: the run's change waits in a merge request.
        #expect(run["outcome"] as? String == "awaiting_approval" && run["mergeRequest"] as? Int != nil, "\(run)")
        let branch = "agent-runs/\(try #require(run["run"] as? String))"
        let file = try await server.request("GET", "\(Self.api)/files/plans/2027-03-27.json?ref=\(branch)", token: admin)
        #expect(file.text.contains(#"{\"crews\": 3}"#) || file.text.contains(#"{"crews": 3}"#), "\(file.text)")

        let listed = try await server.request("GET", "\(Self.api)/workflows", token: admin)
        #expect((listed.json["workflows"] as? [[String: Any]])?.map { $0["name"] as? String } == ["plan"], "\(listed.text)")
        let cli = server.cli.run(["workflow", "runs", "plan", "-p", "city", "--json"])
        #expect((cli.object["runs"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id], "\(cli.stdout) \(cli.stderr)")
        // Disabled: nothing starts.
        #expect(try await server.request("POST", "\(Self.api)/workflows/plan/disable", token: admin).status == 200)
        #expect(
            try await server.request("POST", "\(Self.api)/workflows/plan/runs", token: admin, json: ["inputs": ["date": "d2"]]).status
                == 409
        )
    }

    @Test(
        "an approval step over HTTP: the run waits in the approval queue; the enabler may not approve; a reviewer's approval continues it at once"
    )
    func approvalStep() async throws {
        let (server, admin) = try await Self.setUp()
        var gated = Self.plan
        var steps = gated["steps"] as? [[String: Any]] ?? []
        steps.insert(["id": "signoff", "kind": "approval", "summary": "plan for {{inputs.date}}"], at: 1)
        gated["steps"] = steps
        #expect(try await server.request("PUT", "\(Self.api)/workflows/gated", token: admin, json: ["definition": gated]).status == 200)
        #expect(try await server.request("POST", "\(Self.api)/workflows/gated/enable", token: admin).status == 200)
        #expect(
            try await server.request("PUT", "/v1/orgs/default/members/user:rita", token: admin, json: ["role": "reviewer"]).status == 200
        )
        let rita = try #require(
            try await server.request("POST", "/v1/orgs/default/keys", token: admin, json: ["subject": "user:rita", "role": "reviewer"])
                .json["token"]
                as? String
        )
        let id = try #require(
            try await server.request("POST", "\(Self.api)/workflows/gated/runs", token: admin, json: ["inputs": ["date": "d9"]]).json["id"]
                as? String
        )
        var approval: String?
        for _ in 0..<1000 where approval == nil {
            let r = try await server.request("GET", "\(Self.api)/workflows/gated/runs/\(id)", token: admin)
            if r.json["status"] as? String == "paused" { approval = r.json["approval"] as? String }
            try await Task.sleep(for: .milliseconds(20))
        }
        let request = try #require(approval)
        let queued = try await server.request("GET", "/v1/orgs/default/approvals/\(request)", token: rita)
        #expect(
            queued.json["summary"] as? String == "plan for d9" && queued.json["operation"] as? String == "workflow.step",
            "\(queued.text)"
        )
        let own = try await server.request(
            "POST",
            "/v1/orgs/default/approvals/\(request)/decisions",
            token: admin,
            json: ["verdict": "approve", "rationale": "mine"]
        )
        #expect(own.status == 403 && own.errorCode == "self_approval", "\(own.text)")
        let ok = try await server.request(
            "POST",
            "/v1/orgs/default/approvals/\(request)/decisions",
            token: rita,
            json: ["verdict": "approve", "rationale": "fine"]
        )
        #expect(ok.status == 200, "\(ok.text)")
        let run = try await Self.ended(server, admin, "gated", id)
        #expect(run["status"] as? String == "succeeded" && run["outcome"] as? String == "awaiting_approval", "\(run)")
    }

    @Test(
        "an agent step: a scripted agent (the official MCP client) reads and edits through the run's own session; its token is refused after the run"
    )
    func agentStep() async throws {
        let python = try PythonReference.executable()
        let script = PythonReference.root.appendingPathComponent("Tests/CairnCLITests/Support/python/scripted_agent.py").path
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("agent-token-\(UUID().uuidString)").path
        let hosts = String(decoding: try JSONSerialization.data(withJSONObject: ["scripted": [python, script]]), as: UTF8.self)
        let server = try await ServerHarness(environment: ["CAIRN_AGENT_HOSTS": hosts, "CAIRN_AGENT_TOKEN_FILE": tokenFile])
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "city"]).status == 201)
        #expect(server.cli.run("write", "plans/base.json", "-p", "city", "--content", #"{"crews":3}"#, "-m", "seed").status == 0)
        let plan = #"{"read": "plans/base.json", "edit": {"path": "plans/base.json", "old": "3", "new": "{{inputs.crews}}"}}"#
        let definition: [String: Any] = [
            "scope": ["role": "designer", "path": "plans/**"],
            "inputs": ["crews": ["type": "integer", "required": true]],
            "triggers": [["kind": "manual"]],
            "steps": [["id": "agent", "kind": "agent", "host": "scripted", "prompt": plan, "timeoutSeconds": 120]],
        ]
        #expect(
            try await server.request("PUT", "\(Self.api)/workflows/assist", token: admin, json: ["definition": definition]).status == 200
        )
        #expect(try await server.request("POST", "\(Self.api)/workflows/assist/enable", token: admin).status == 200)
        let id = try #require(
            try await server.request("POST", "\(Self.api)/workflows/assist/runs", token: admin, json: ["inputs": ["crews": 5]]).json["id"]
                as? String
        )
        let run = try await Self.ended(server, admin, "assist", id)
        #expect(run["status"] as? String == "succeeded", "\(run)")
        let step = try #require((run["steps"] as? [[String: Any]])?.first)
        #expect((step["calls"] as? [Int]) == [1, 2] && (step["commits"] as? [String])?.count == 1, "\(step)")
        // The agent's edit is on the run's branch, made as the workflow, recorded in its engine run.
        let engineRun = try await server.request("GET", "\(Self.api)/agent-runs/\(try #require(run["run"] as? String))", token: admin)
        #expect(engineRun.json["agent"] as? String == "workflow:assist", "\(engineRun.text)")
        #expect((engineRun.json["calls"] as? [[String: Any]])?.compactMap { $0["tool"] as? String } == ["Read", "Edit"])
        let branch = try #require(engineRun.json["branch"] as? String)
        let file = try await server.request("GET", "\(Self.api)/files/plans/base.json?ref=\(branch)", token: admin)
        #expect(file.text.contains("crews") && file.text.contains("5"), "\(file.text)")
        // Its token opened that session only while the step ran: now it is refused like any bad credential.
        let token = try String(contentsOfFile: tokenFile, encoding: .utf8)
        let late = try await server.request(
            "POST",
            "/v1/mcp?project=city",
            token: token,
            json: [
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": [
                    "protocolVersion": "2025-03-26", "capabilities": [:] as [String: Any], "clientInfo": ["name": "late", "version": "1"],
                ],
            ],
            headers: ["Accept": "application/json, text/event-stream"]
        )
        #expect(late.status == 401 && late.errorCode == "unauthenticated", "\(late.text)")
    }

    @Test("the CLI on the data folder: set, enable, run (exit 0, each step printed); a failing run exits 1 and rolls back")
    func cliRun() async throws {
        let cli = try CLIHarness(project: "city")
        #expect(cli.run("write", "plans/base.json", "--content", #"{"crews":3}"#, "-m", "seed").status == 0)
        let file = cli.data.deletingLastPathComponent().appendingPathComponent("plan-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: Self.plan).write(to: file)
        #expect(cli.run("workflow", "set", "plan", file.path).status == 0)
        #expect(cli.run("workflow", "enable", "plan").status == 0)
        let ran = cli.run("workflow", "run", "plan", "--input", "date=d1")
        #expect(ran.status == 0 && ran.stdout.contains("plan (Write): succeeded"), "\(ran.stdout) \(ran.stderr)")
        // Outside its scope (plans/**): refused, recorded, rolled back, exit 1.
        var outside = Self.plan
        outside["steps"] = [["id": "w", "kind": "Write", "arguments": ["path": "sites/x.json", "content": "{}"]]]
        outside["inputs"] = [:] as [String: Any]
        try JSONSerialization.data(withJSONObject: outside).write(to: file)
        #expect(cli.run("workflow", "set", "outside", file.path).status == 0)
        #expect(cli.run("workflow", "enable", "outside").status == 0)
        let refused = cli.run("workflow", "run", "outside", "--json")
        #expect(refused.status == 1 && refused.object["status"] as? String == "failed", "\(refused.stdout) \(refused.stderr)")
        #expect(
            refused.object["outcome"] as? String == "rolled_back"
                && (refused.object["failure"] as? String)?.contains("permission_denied") == true
        )
        #expect(cli.run("read", "sites/x.json").status != 0)
    }

    @Test("a server killed in the middle of a workflow run: after restart the run is ended once (failed, why said), never run again")
    func killedMidRun() async throws {
        let (server, admin) = try await Self.setUp()
        var slow = Self.plan
        slow["inputs"] = [:] as [String: Any]
        slow["steps"] = [
            ["id": "w", "kind": "Write", "arguments": ["path": "plans/k.json", "content": "{}"]],
            ["id": "wait", "kind": "Read", "arguments": ["path": "plans/missing.json"], "retry": ["count": 1, "backoffSeconds": 600]],
        ]
        #expect(try await server.request("PUT", "\(Self.api)/workflows/slow", token: admin, json: ["definition": slow]).status == 200)
        #expect(try await server.request("POST", "\(Self.api)/workflows/slow/enable", token: admin).status == 200)
        let id = try #require(try await server.request("POST", "\(Self.api)/workflows/slow/runs", token: admin).json["id"] as? String)
        // Wait until its first step is recorded, then kill the server.
        for _ in 0..<3000 {
            let r = try await server.request("GET", "\(Self.api)/workflows/slow/runs/\(id)", token: admin)
            if (r.json["steps"] as? [Any])?.count == 1 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        let restarted = try await ServerHarness(sharing: server.cli)
        let run = try await Self.ended(restarted, admin, "slow", id)
        #expect(run["status"] as? String == "failed" && (run["failure"] as? String)?.contains("stopped") == true, "\(run)")
        let runs = try await restarted.request("GET", "\(Self.api)/workflows/slow/runs", token: admin)
        #expect((runs.json["runs"] as? [[String: Any]])?.count == 1, "\(runs.text)")
        // Its engine run was interrupted, its branch kept with the first step's write.
        let engineRun = try await restarted.request("GET", "\(Self.api)/agent-runs/\(try #require(run["run"] as? String))", token: admin)
        #expect(engineRun.json["status"] as? String == "interrupted", "\(engineRun.text)")
    }
}
