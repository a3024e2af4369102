import Foundation
import Testing

/// Merging branches through the surfaces a person or an agent uses: HTTP and the command line.
@Suite struct MergeSurfaceTests {
    @Test("HTTP: a merge answers its hunks and writes nothing, then merges once they are settled; a viewer is refused")
    func mergeOverHTTP() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        let p = "/v1/orgs/default/projects/grid"
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "grid"]).status == 201)
        // main is protected by default: a direct merge is refused; the project's configuration lifts it.
        let protected = try await server.request("POST", p + "/merges", token: admin, json: ["source": "plan"])
        #expect(protected.status == 409 && protected.errorCode == "branch_protected")
        #expect(
            try await server.request("PUT", p + "/files/.cairn/protection.json", token: admin, json: ["content": #"{"branches":{}}"#])
                .status == 200
        )
        _ = try await server.request(
            "PUT",
            p + "/files/pump.json",
            token: admin,
            json: ["content": #"{"id":"pump-1","flow":10,"state":"on"}"#]
        )
        #expect(try await server.request("POST", p + "/branches", token: admin, json: ["name": "plan"]).status == 201)
        _ = try await server.request(
            "PUT",
            p + "/files/pump.json",
            token: admin,
            json: ["content": #"{"id":"pump-1","flow":12,"state":"on"}"#, "branch": "plan"]
        )
        _ = try await server.request("PUT", p + "/files/valve.json", token: admin, json: ["content": #"{"id":"v1"}"#, "branch": "plan"])
        let mainHead =
            try await server.request(
                "PUT",
                p + "/files/pump.json",
                token: admin,
                json: ["content": #"{"id":"pump-1","flow":15,"state":"off"}"#]
            )
            .json["commit"] as? String

        let attempt = try await server.request(
            "POST",
            p + "/merges",
            token: admin,
            json: ["source": "plan", "message": "bring in the plan"]
        )
        #expect(attempt.status == 200)
        #expect(attempt.json["status"] as? String == "conflicts")
        let files = attempt.json["conflicts"] as? [[String: Any]] ?? []
        #expect(files.map { $0["path"] as? String } == ["pump.json"])
        let hunk = (files.first?["hunks"] as? [[String: Any]])?.first
        #expect(hunk?["pointer"] as? String == "/flow")
        #expect(hunk?["base"] as? Int == 10 && hunk?["ours"] as? Int == 15 && hunk?["theirs"] as? Int == 12)
        let branches = try await server.request("GET", p + "/branches", token: admin).json["branches"] as? [[String: Any]] ?? []
        #expect(branches.first { $0["name"] as? String == "main" }?["head"] as? String == mainHead, "nothing written")

        // A viewer may not merge, and the refusal is audited.
        _ = try await server.request("PUT", "/v1/orgs/default/members/user:vera", token: admin, json: ["role": "viewer"])
        let viewer = try #require(
            try await server.request("POST", "/v1/orgs/default/keys", token: admin, json: ["subject": "user:vera", "role": "viewer"]).json[
                "token"
            ] as? String
        )
        let refused = try await server.request("POST", p + "/merges", token: viewer, json: ["source": "plan"])
        #expect(refused.status == 403 && refused.errorCode == "permission_denied")

        let bad = try await server.request(
            "POST",
            p + "/merges",
            token: admin,
            json: ["source": "plan", "resolutions": ["pump.json": ["/flow": ["use": "mine"]]]]
        )
        #expect(bad.status == 400)

        let done = try await server.request(
            "POST",
            p + "/merges",
            token: admin,
            json: ["source": "plan", "message": "bring in the plan", "resolutions": ["pump.json": ["/flow": ["value": 13]]]]
        )
        #expect(done.json["status"] as? String == "merged", "\(done.text)")
        let commit = try #require((done.json["outcome"] as? [String: Any])?["commit"] as? String)
        let shown = try await server.request("GET", p + "/commits/\(commit)", token: admin)
        #expect(((shown.json["commit"] as? [String: Any])?["parents"] as? [String])?.count == 2)
        let pump = try await server.request("GET", p + "/files/pump.json?raw=true", token: admin)
        #expect(
            try JSONSerialization.jsonObject(with: pump.body) as? NSDictionary == ["id": "pump-1", "flow": 13, "state": "off"]
                as NSDictionary
        )
        #expect(try await server.request("GET", p + "/files/valve.json", token: admin).status == 200)

        let audit =
            try await server.request("GET", "/v1/orgs/default/audit?action=branch.merge", token: admin).json["entries"] as? [[String: Any]]
            ?? []
        let outcomes = audit.compactMap { ($0["record"] as? [String: Any])?["outcome"] as? String }
        #expect(outcomes == ["refused", "conflicts", "denied", "ok"], "\(outcomes)")
        let merged = audit.last?["record"] as? [String: Any]
        #expect(merged?["commit"] as? String == commit)
        #expect(merged?["reason"] as? String == "bring in the plan")
        #expect((merged?["detail"] as? [String: Any])?["source"] as? String == "plan")
    }

    @Test("CLI: conflicts print and exit 1 with nothing written; --resolve completes the merge")
    func mergeOnTheCommandLine() throws {
        let cli = try CLIHarness(project: "city")
        let refused = cli.run("merge", "side")
        #expect(refused.status != 0 && refused.stderr.contains("protected"), "\(refused.stderr)")
        #expect(cli.run("write", ".cairn/protection.json", "--content", #"{"branches":{}}"#).status == 0)
        #expect(cli.run("write", "a.json", "--content", #"{"n":1,"m":1}"#).status == 0)
        #expect(cli.run("branch", "create", "side").status == 0)
        #expect(cli.run("write", "a.json", "--content", #"{"n":2,"m":1}"#, "-b", "side").status == 0)
        #expect(cli.run("write", "a.json", "--content", #"{"n":3,"m":5}"#).status == 0)
        let conflict = cli.run("merge", "side")
        #expect(conflict.status == 1)
        #expect(
            conflict.stdout.contains("a.json /n") && conflict.stdout.contains("ours:   3") && conflict.stdout.contains("theirs: 2"),
            "\(conflict.stdout)"
        )
        #expect(cli.run("read", "a.json").stdout.contains(#"{"n":3,"m":5}"#))
        let resolved = cli.run("merge", "side", "--resolve", "-", "--json", stdin: #"{"a.json": {"/n": {"use": "theirs"}}}"#)
        #expect(resolved.status == 0, "\(resolved.stderr)")
        #expect(resolved.object["commit"] as? String != nil)
        #expect(cli.run("read", "a.json").stdout.contains(#""n":2"#))
        #expect(cli.run("merge", "side").stdout.contains("nothing to merge"))
    }
}
