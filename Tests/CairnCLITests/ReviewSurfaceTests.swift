import Foundation
import Testing

/// Merge requests and the approval queue through the surfaces people and agents use.
@Suite struct ReviewSurfaceTests {
    @Test("HTTP: an agent's write to protected main answers 202 with a merge request; it merges only after a person approves")
    func agentWriteBecomesAMergeRequest() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        let p = "/v1/orgs/default/projects/grid"
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "grid"]).status == 201)
        #expect(
            try await server.request("PUT", p + "/files/pump.json", token: admin, json: ["content": #"{"id":"pump-1","flow":10}"#]).status
                == 200
        )
        let agent = try #require(
            try await server.request("POST", "/v1/orgs/default/keys", token: admin, json: ["kind": "agent", "role": "designer"]).json[
                "token"
            ] as? String
        )

        let proposed = try await server.request(
            "PUT",
            p + "/files/pump.json",
            token: agent,
            json: ["content": #"{"id":"pump-1","flow":14}"#, "message": "raise flow for the new district"]
        )
        #expect(proposed.status == 202, "\(proposed.text)")
        let number = try #require(proposed.json["mergeRequest"] as? Int)
        let main = try await server.request("GET", p + "/files/pump.json?raw=true", token: admin)
        #expect(main.text.contains("\"flow\":10"), "main is untouched")

        let mr = try await server.request("GET", p + "/merge-requests/\(number)", token: admin)
        #expect(
            mr.json["status"] as? String == "open"
                && (mr.json["request"] as? [String: Any])?["title"] as? String == "raise flow for the new district"
        )
        let diff = try await server.request("GET", p + "/merge-requests/\(number)/diff", token: admin)
        #expect((diff.json["entities"] as? [[String: Any]])?.first?["path"] as? String == "pump.json")

        let early = try await server.request("POST", p + "/merge-requests/\(number)/merge", token: admin, json: [:])
        #expect(early.status == 409 && early.errorCode == "approval_required")
        let byAgent = try await server.request(
            "POST",
            p + "/merge-requests/\(number)/reviews",
            token: agent,
            json: ["verdict": "approve", "rationale": "looks right"]
        )
        #expect(byAgent.status == 403)

        let approved = try await server.request(
            "POST",
            p + "/merge-requests/\(number)/reviews",
            token: admin,
            json: ["verdict": "approve", "rationale": "flow within the pump's rating"]
        )
        #expect(approved.status == 200 && approved.json["status"] as? String == "approved", "\(approved.text)")
        let merged = try await server.request(
            "POST",
            p + "/merge-requests/\(number)/merge",
            token: admin,
            json: ["message": "bring in the agent's change"]
        )
        #expect(merged.status == 200 && merged.json["status"] as? String == "merged", "\(merged.text)")
        let commit = try #require((merged.json["outcome"] as? [String: Any])?["commit"] as? String)
        #expect(try await server.request("GET", p + "/files/pump.json?raw=true", token: admin).text.contains("\"flow\":14"))

        // The audit log has the review with its rationale and the merge with its commit.
        let reviews =
            try await server.request("GET", "/v1/orgs/default/audit?action=merge_request.review", token: admin).json["entries"]
            as? [[String: Any]] ?? []
        let review = reviews.compactMap { $0["record"] as? [String: Any] }.first { $0["outcome"] as? String == "ok" }
        #expect((review?["detail"] as? [String: Any])?["rationale"] as? String == "flow within the pump's rating")
        let merges =
            try await server.request("GET", "/v1/orgs/default/audit?action=merge_request.merge", token: admin).json["entries"]
            as? [[String: Any]] ?? []
        let mergeCommits: [String] = merges.compactMap { ($0["record"] as? [String: Any])?["commit"] as? String }
        #expect(mergeCommits.contains(commit))
        let list = try await server.request("GET", p + "/merge-requests?state=merged", token: admin)
        #expect((list.json["mergeRequests"] as? [[String: Any]])?.count == 1)
    }

    @Test("CLI: a gated branch deletion waits (exit 3) until another person approves it")
    func approvalQueueOnTheCommandLine() throws {
        let cli = try CLIHarness(project: "city")
        #expect(cli.run("write", "a.json", "--content", "{}").status == 0)
        #expect(cli.run("branch", "create", "old").status == 0)
        // Gate branch deletion through the organization's access configuration.
        let gate = cli.run("admin", "approvals", "--operations", "branch.delete")
        #expect(gate.status == 0, "\(gate.stderr)")
        let waiting = cli.run("branch", "delete", "old", "--author", "ada", "--json")
        #expect(waiting.status == 3, "\(waiting.stderr)")
        let id = try #require(waiting.object["id"] as? String)
        #expect(cli.run("branch", "list").stdout.contains("old"))
        let own = cli.run("approval", "decide", id, "approve", "-m", "mine", "--author", "ada")
        #expect(own.status == 1 && own.stderr.contains("self_approval"), "\(own.stderr)")
        let ok = cli.run("approval", "decide", id, "approve", "-m", "unused since the merge", "--author", "bob")
        #expect(ok.status == 0 && ok.stdout.contains("applied"), "\(ok.stdout) \(ok.stderr)")
        #expect(!cli.run("branch", "list").stdout.contains("old "))
    }
}
