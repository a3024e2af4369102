import CairnTestSupport
import Foundation
import Testing

/// `cairn copy` and `cairn migrate`, and how a database's credentials are kept out of sight.
@Suite struct StoreCommandTests {
    /// A small store with history on two branches, imported map data, and audit entries.
    static func populated() throws -> CLIHarness {
        let cli = try CLIHarness()
        let roads = CLIHarness.sharedData.appendingPathComponent("helsinki-roads.geojson").path
        #expect(cli.run("import", roads, "--template", "roads/{#}.json", "-m", "roads").status == 0)
        for i in 0..<3 { #expect(cli.run("write", "sites/\(i).json", "--content", "{\"i\": \(i)}", "-m", "site \(i)").status == 0) }
        #expect(cli.run("branch", "create", "plan").status == 0)
        #expect(cli.run("write", "sites/9.json", "--content", "{\"plan\": true}", "-b", "plan", "-m", "plan").status == 0)
        return cli
    }

    /// What a user sees of a store: history, branches, file contents and the audit log.
    static func view(_ cli: CLIHarness, store: [String]) -> [String] {
        [
            cli.run(["log", "--json", "--limit", "100"] + store).stdout,
            cli.run(["branch", "list", "--json"] + store).stdout,
            cli.run(["read", "sites/1.json", "--json"] + store).stdout,
            cli.run(["read", "sites/9.json", "--at", "plan", "--json"] + store).stdout,
            cli.run(["audit", "export"] + store).stdout,
        ]
    }

    @Test(
        "copy to another backend and back: the same ids, history, branches and audit chain, verified on both ends; a copy never lands on data"
    )
    func copyRoundTrip() throws {
        let cli = try Self.populated()
        let here = ["--data", cli.data.path] + (cli.databaseURL.map { ["--database-url", $0] } ?? [])
        let before = Self.view(cli, store: here)
        #expect(before.allSatisfy { !$0.isEmpty })

        // There (PostgreSQL on that pass, else another SQLite file) and back into a new SQLite file.
        let middle = TestBackend.isPostgres ? try TestBackend.freshPostgresURL() : cli.data.appendingPathComponent("middle.sqlite").path
        let back = cli.data.appendingPathComponent("back.sqlite").path
        let first = cli.run("copy", cli.store, middle, "--json")
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
        #expect(first.object["verified"] as? Bool == true)
        let tables = first.object["tables"] as? [[String: Any]] ?? []
        #expect(
            tables.compactMap { $0["table"] as? String } == [
                "organization", "project", "object", "ref", "reflog", "commit_index", "path_history", "audit", "run_call",
            ]
        )
        #expect(tables.first { $0["table"] as? String == "object" }?["rows"] as? Int ?? 0 > 2000)
        let second = cli.run("copy", middle, back, "--json")
        #expect(second.status == 0, "\(second.stdout) \(second.stderr)")
        #expect(
            (second.object["tables"] as? [[String: Any]] ?? []).map { $0["sha256"] as? String } == tables.map { $0["sha256"] as? String }
        )

        // The copy reads exactly as the original, and both verify clean.
        let backDir = cli.data.appendingPathComponent("back")
        try FileManager.default.createDirectory(at: backDir, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: back, toPath: backDir.appendingPathComponent("cairn.sqlite").path)
        let there = ["--data", backDir.path, "--database-url", ""]
        #expect(Self.view(cli, store: there) == before)
        #expect(cli.run(["verify"] + there).status == 0)
        #expect(cli.run(["verify"] + here).status == 0)

        // The copy goes on as a store of its own: new commits, projects and audit entries follow on.
        #expect(cli.run(["write", "sites/10.json", "--content", "{}", "-m", "after the copy"] + there).status == 0)
        #expect(cli.run(["project", "create", "second"] + there).status == 0)
        #expect(cli.run(["verify"] + there).status == 0)
        let middleStore = TestBackend.isPostgres ? ["--database-url", middle] : []
        if TestBackend.isPostgres {
            #expect(cli.run(["write", "sites/11.json", "--content", "{}", "-m", "after the copy"] + middleStore).status == 0)
            #expect(cli.run(["project", "create", "third"] + middleStore).status == 0)
            #expect(cli.run(["verify"] + middleStore).status == 0)
        }

        // Into a store that holds data: refused, and nothing changes there.
        let refused = cli.run("copy", cli.store, middle, "--json")
        #expect(refused.status == 1)
        #expect(refused.errorCode == "store_not_empty")
    }

    @Test("migrate: applies the schema once, even when two run at once, and reports it up to date after")
    func migrateOnce() async throws {
        let cli = try CLIHarness(initialize: false)
        guard let url = cli.databaseURL else {
            // On SQLite there is nothing to migrate by hand: the command says so.
            let r = cli.fails("invalid_argument", "migrate")
            #expect(r.stdout.contains("CAIRN_DATABASE_URL"))
            return
        }
        async let one = Task.detached { cli.run("migrate", "--json") }.value
        async let two = Task.detached { cli.run("migrate", "--json") }.value
        let (a, b) = await (one, two)
        #expect(a.status == 0 && b.status == 0, "\(a.stdout) \(b.stdout)")
        let applied = (a.object["applied"] as? [Int] ?? []) + (b.object["applied"] as? [Int] ?? [])
        #expect(applied == [1, 2, 3], "each migration applied exactly once: \(applied)")
        let again = cli.run("migrate", "--json")
        #expect(again.object["applied"] as? [Int] == [])
        #expect(again.object["version"] as? Int == 3)
        #expect(!again.stdout.contains(TestBackend.password() ?? "no password"))
        _ = url
    }

    @Test("a database password is never echoed: not on a failed login, not in the server's output")
    func passwordsStayOutOfSight() async throws {
        guard TestBackend.isPostgres, let password = TestBackend.password(),
            var parts = URLComponents(string: try TestBackend.freshPostgresURL())
        else {
            return  // SQLite has no credentials.
        }
        // A wrong password in the URL: refused with a message that names the store, not the secret.
        parts.password = "Wr0ngSecret-42"
        let cli = try CLIHarness(initialize: false, databaseURL: parts.string)
        let wrong = cli.run(["project", "list", "--json", "--database-url", parts.string ?? ""])
        #expect(wrong.status == 1)
        #expect(wrong.errorCode == "store_unavailable" && wrong.stdout.contains("password authentication failed"), "\(wrong.stdout)")
        #expect(!wrong.stdout.contains("Wr0ngSecret-42") && !wrong.stderr.contains("Wr0ngSecret-42"), "\(wrong.stdout)\(wrong.stderr)")
        #expect(wrong.stdout.contains("127.0.0.1"), "the message names the store: \(wrong.stdout)")

        // The right password from the file: the server's whole output never shows it.
        let server = try await ServerHarness(databaseURL: try TestBackend.freshPostgresURL(), captureErrors: true)
        let token = try server.adminToken()
        #expect(try await server.request("GET", "/v1/orgs/default/projects", token: token).status == 200)
        #expect(!server.startupOutput.contains(password))
        #expect(!server.errorOutput.contains(password))
        #expect(server.startupOutput.contains("cairn listening"))
    }
}
