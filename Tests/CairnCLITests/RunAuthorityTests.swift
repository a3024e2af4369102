import CairnTestSupport
import Foundation
import Testing

/// Every call of a run is authorized when it is made (issue 18), on stdio and on HTTP alike,
/// through the official MCP client: a launcher narrowed, a grant taken away, a key revoked or a
/// parent run's agent losing its key binds the very next call, and every refusal is recorded.
@Suite struct RunAuthorityTests {
    static let api = "/v1/orgs/default"

    enum Transport: String, CaseIterable, Sendable { case stdio, http }

    /// A server with a project `city`; Ana, who launches the agents, may design in the
    /// organization through one grant (`ana`) and nothing else.
    static func setUp() async throws -> (ServerHarness, admin: String) {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "\(api)/projects", token: admin, json: ["name": "city"]).status == 201)
        #expect(server.cli.run("write", "sites/a.json", "-p", "city", "--content", #"{"capacity":10}"#, "-m", "seed").status == 0)
        #expect(try await grantAna(server, admin, role: "designer") == 200)
        return (server, admin)
    }

    static func grantAna(_ server: ServerHarness, _ admin: String, role: String) async throws -> Int {
        let body: [String: Any] = ["subject": "user:ana", "role": role, "target": ["kind": "organization"], "effect": "allow"]
        let r = try await server.request("PUT", "\(api)/grants/ana", token: admin, json: body)
        return r.status
    }

    static func mint(_ server: ServerHarness, _ admin: String, _ subject: String) async throws -> (token: String, id: String) {
        let minted = try await server.request(
            "POST",
            "\(api)/keys",
            token: admin,
            json: ["kind": "agent", "subject": subject, "role": "designer", "project": "city"]
        )
        let key = try #require(minted.json["key"] as? [String: Any], "\(minted.text)")
        return (try #require(minted.json["token"] as? String), try #require(key["id"] as? String))
    }

    /// How a session of `token`, acting for Ana, connects over `transport`.
    static func connection(_ transport: Transport, _ server: ServerHarness, _ token: String) -> [String: Any] {
        switch transport {
        case .stdio:
            [
                "stdio": [
                    "command": CLIHarness.binDirectory.appendingPathComponent("cairn").path,
                    "args": ["mcp", "-p", "city", "--on-behalf-of", "user:ana"],
                    "env": server.cli.storeEnvironment.merging(["CAIRN_TOKEN": token]) { $1 },
                ]
            ]
        case .http: ["http": ["url": server.base + "/v1/mcp?project=city&onBehalfOf=user:ana", "token": token]]
        }
    }

    static func read() -> [String: Any] { ["tool": "Read", "arguments": ["path": "sites/a.json"]] }
    static func write(_ name: String) -> [String: Any] {
        ["tool": "Write", "arguments": ["path": "sites/\(name).json", "content": "{}", "reason": name]]
    }

    @Test(
        "a launcher narrowed, a grant removed and a key revoked mid-session each bind the very next call and the one after",
        arguments: Transport.allCases
    )
    func changesBindTheNextCall(_ transport: Transport) async throws {
        let (server, admin) = try await Self.setUp()
        let agent = try await Self.mint(server, admin, "agent:p")
        let pauses = try SessionPauses()
        var plan = Self.connection(transport, server, agent.token)
        plan["protocolErrors"] = true
        plan["calls"] = [
            Self.read(), Self.write("w1"),
            pauses.at("narrowed"), Self.write("w2"), Self.read(),
            pauses.at("removed"), Self.read(), Self.write("w3"),
            pauses.at("revoked"), Self.read(), Self.write("w4"),
        ]
        let session = try BackgroundSession(plan)
        try await pauses.when("narrowed") { () async throws in #expect(try await Self.grantAna(server, admin, role: "viewer") == 200) }
        try await pauses.when("removed") { () async throws in
            #expect(try await server.request("DELETE", "\(Self.api)/grants/ana", token: admin).status == 204)
        }
        try await pauses.when("revoked") { () async throws in
            // Ana may design again: what refuses the agent now is its own key alone.
            #expect(try await Self.grantAna(server, admin, role: "designer") == 200)
            #expect(try await server.request("DELETE", "\(Self.api)/keys/\(agent.id)", token: admin).status == 200)
        }
        let answer = try await session.answer()
        let results = answer["results"] as? [[String: Any]] ?? []
        try #require(results.count == 8, "\(answer)")
        func text(_ i: Int) -> String { results[i]["text"] as? String ?? "" }
        func failed(_ i: Int) -> Bool { results[i]["isError"] as? Bool ?? false }
        #expect(!failed(0) && !failed(1), "\(text(0)) \(text(1))")
        #expect(
            failed(2) && text(2).contains("permission_denied") && text(2).contains("user:ana, for whom this agent acts, may not write"),
            "\(text(2))"
        )
        #expect(!failed(3), "narrowed to viewer, Ana may still read: \(text(3))")
        #expect(
            failed(4) && failed(5) && text(4).contains("permission_denied") && text(5).contains("permission_denied"),
            "\(text(4)) \(text(5))"
        )
        switch transport {
        case .stdio:
            // The process holds the session: the agent is told, as a tool error, and it is recorded.
            #expect(
                failed(6) && failed(7) && text(6).contains("unauthenticated") && text(7).contains("unauthenticated"),
                "\(text(6)) \(text(7))"
            )
        case .http:
            // Each request authenticates first: a revoked key gets the one generic 401, before
            // any session is looked at (the audit log has the failure, not the run).
            #expect(
                results[6]["protocolError"] as? Bool == true && results[7]["protocolError"] as? Bool == true,
                "\(results[6]) \(results[7])"
            )
        }

        // Every call, allowed or refused, is in the run's history with its decision: recorded
        // before it was answered, so there is no need to wait for the session's end (over HTTP
        // the revoked key cannot even close it; it ends when idle).
        let id = try #require(answer["run"] as? String)
        let shown = try await server.request("GET", "\(Self.api)/projects/city/agent-runs/\(id)", token: admin).json
        let calls = shown["calls"] as? [[String: Any]] ?? []
        let decisions =
            ["allowed", "allowed", "denied", "allowed", "denied", "denied"] + (transport == .stdio ? ["denied", "denied"] : [])
        #expect(calls.compactMap { $0["decision"] as? String } == decisions, "\(calls)")
        #expect(
            server.cli.run(["read", "sites/w2.json", "-p", "city", "--at", shown["branch"] as? String ?? "?"]).status != 0,
            "a refused write wrote nothing"
        )
    }

    @Test("a child run is bounded by its parent's agent's key as it stands at each call", arguments: Transport.allCases)
    func childBoundedByParentsCurrentKey(_ transport: Transport) async throws {
        let (server, admin) = try await Self.setUp()
        let parent = try await Self.mint(server, admin, "agent:lead")
        let child = try await Self.mint(server, admin, "agent:helper")
        let pauses = try SessionPauses()
        var first = Self.connection(transport, server, parent.token)
        first["calls"] = [Self.read()]
        var second = Self.connection(transport, server, child.token)
        second["childOf"] = 0
        second["calls"] = [Self.read(), pauses.at("revoked"), Self.read(), Self.write("c1")]
        let session = try BackgroundSession(["sessions": [first, second]])
        try await pauses.when("revoked") { () async throws in
            #expect(try await server.request("DELETE", "\(Self.api)/keys/\(parent.id)", token: admin).status == 200)
        }
        let sessions = try await session.answer()["sessions"] as? [[String: Any]] ?? []
        let results = sessions.last?["results"] as? [[String: Any]] ?? []
        try #require(results.count == 3, "\(sessions)")
        #expect(results[0]["isError"] as? Bool == false, "\(results[0])")
        for r in results.dropFirst() {
            #expect(
                r["isError"] as? Bool == true && (r["text"] as? String ?? "").contains("parent run")
                    && (r["text"] as? String ?? "").contains("no longer has a valid key"),
                "\(r)"
            )
        }
    }
}
