import Foundation
import Testing

@Suite struct CLIFileCommandTests {
    @Test func writeReadEditRemoveRoundTrip() throws {
        let cli = try CLIHarness()
        #expect(cli.run("write", "poles/1.json", "--content", #"{"h":9}"#, "-m", "add pole").status == 0)
        #expect(cli.run("write", "poles/2.json", stdin: #"{"h":10}"#).status == 0)
        #expect(cli.run("read", "poles/1.json").stdout == "{\"h\":9}\n")
        let read = cli.json("read", "poles/2.json") as! [String: Any]
        #expect(read["lines"] as? [String] == [#"{"h":10}"#])
        #expect(read["totalLines"] as? Int == 1)
        #expect(cli.run("edit", "poles/1.json", "--old", "9", "--new", "12").status == 0)
        #expect(cli.run("read", "poles/1.json").stdout == "{\"h\":12}\n")
        #expect(cli.run("rm", "poles/*.json").status == 0)
        #expect((cli.json("glob", "**") as! [String: Any])["paths"] as? [String] == [])
        let log = cli.json("log") as! [String: Any]
        #expect((log["commits"] as! [[String: Any]]).count == 5)
    }

    @Test func readPagesByLines() throws {
        let cli = try CLIHarness()
        cli.run("write", "t.txt", "--content", "1\n2\n3\n4\n5\n")
        let page = cli.json("read", "t.txt", "--offset", "2", "--limit", "2") as! [String: Any]
        #expect(page["lines"] as? [String] == ["2", "3"])
        #expect(page["hasMore"] as? Bool == true)
        #expect(page["totalLines"] as? Int == 5)
        let r = cli.run("read", "t.txt", "--offset", "2", "--limit", "2")
        #expect(r.stderr.contains("--offset 4"))
    }

    @Test func errorCasesAreStructuredAndChangeNothing() throws {
        let cli = try CLIHarness()
        cli.run("write", "a.txt", "--content", "x y x")
        cli.fails("not_found", "read", "missing.txt")
        cli.fails("ambiguous_edit", "edit", "a.txt", "--old", "x", "--new", "z")
        cli.fails("edit_no_match", "edit", "a.txt", "--old", "q", "--new", "z")
        cli.fails("invalid_path", "write", "../escape.txt", "--content", "x")
        cli.fails("invalid_path", "write", "a//b.txt", "--content", "x")
        cli.fails("invalid_regex", "grep", "(oops")
        cli.fails("invalid_glob", "glob", "[abc")
        cli.fails("unknown_ref", "read", "a.txt", "--at", "nosuchbranch")
        cli.fails("before_first_commit", "read", "a.txt", "--at", "main@2000-01-01T00:00:00Z")
        cli.fails("invalid_ref", "read", "a.txt", "--at", "main@not-a-time")
        cli.fails("project_not_found", "log", "-p", "nosuchproject")
        cli.fails("not_found", "rm", "nothing/*")
        #expect(cli.run("read", "a.txt").stdout == "x y x\n")
        #expect(((cli.json("log") as! [String: Any])["commits"] as! [Any]).count == 2, "failed commands made no commit")
        // Human-readable errors go to stderr with the code.
        let human = cli.run("read", "missing.txt")
        #expect(human.status == 1)
        #expect(human.stderr.contains("[not_found]"))
        #expect(human.stdout.isEmpty)
    }

    @Test func missingDataFolderSaysHowToFixIt() throws {
        let cli = try CLIHarness(initialize: false)
        // No data folder (SQLite), or a database Cairn has never used (PostgreSQL): either way
        // the error says which command makes the store, and nothing is created by asking.
        let r = cli.fails(cli.databaseURL == nil ? "not_found" : "schema_outdated", "project", "list")
        #expect(r.stdout.contains("cairn init"))
        #expect(cli.fails(cli.databaseURL == nil ? "not_found" : "schema_outdated", "project", "list").stdout.contains("cairn init"))
    }

    @Test func globAndGrepThroughTheCLI() throws {
        let cli = try CLIHarness()
        let batch = """
            {"changes":[
              {"op":"write","path":"roads/main.json","content":"{\\"name\\":\\"Mannerheimintie\\",\\n\\"lanes\\":4}"},
              {"op":"write","path":"roads/side.json","content":"{\\"name\\":\\"Erottajankatu\\"}"},
              {"op":"write","path":"notes.txt","content":"lanes are many\\n"}]}
            """
        #expect(cli.run("apply", "-", "-m", "batch", stdin: batch).status == 0)
        #expect(((cli.json("log") as! [String: Any])["commits"] as! [Any]).count == 2, "the batch is one commit")
        #expect(cli.run("glob", "roads/*.json").stdout == "roads/main.json\nroads/side.json\n")
        #expect(cli.run("grep", "lanes").stdout == "notes.txt\nroads/main.json\n")
        #expect(cli.run("grep", "lanes", "--glob", "roads/**", "--mode", "content").stdout == "roads/main.json:2:\"lanes\":4}\n")
        #expect(cli.run("grep", "MANNER", "-i", "--mode", "count").stdout == "roads/main.json:1\n")
        let limited = cli.run("grep", "a", "--mode", "content", "--head-limit", "1")
        #expect(limited.stdout.split(separator: "\n").count == 1)
        #expect(limited.stderr.contains("more matches exist"))
        cli.fails("invalid_argument", "apply", "-", stdin: "{not json")
        cli.fails("invalid_argument", "apply", "-", stdin: #"{"changes":[{"op":"chmod","path":"x"}]}"#)
    }
}

@Suite struct CLIMultiProcessTests {
    /// Separate `cairn` processes race on one branch: each loses the compare-and-swap to the
    /// others at times, rebases (its path is untouched) and retries; none is lost.
    @Test func concurrentProcessesOnDisjointPathsAllCommit() async throws {
        let cli = try CLIHarness()
        let n = 8
        let statuses = await withTaskGroup(of: Int32.self) { group in
            for i in 0..<n {
                group.addTask { cli.run(["write", "p/\(i).txt", "--content", "process \(i)"]).status }
            }
            return await group.reduce(into: [Int32]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 0, count: n))
        #expect((cli.json("glob", "p/*") as! [String: Any])["paths"] as? [String] == (0..<n).map { "p/\($0).txt" }.sorted())
        #expect(((cli.json("log") as! [String: Any])["commits"] as! [Any]).count == n + 1)
        #expect(cli.run("verify").status == 0)
    }

    /// Processes that all rewrite one file from the same base: exactly the winners' commits exist,
    /// the losers get `conflict`, and the file holds the last winner's content.
    @Test func concurrentProcessesOnOnePathNeverLoseAnUpdate() async throws {
        let cli = try CLIHarness()
        cli.run("write", "shared.txt", "--content", "base")
        let base = ((cli.json("show") as! [String: Any])["commit"] as! [String: Any])["id"] as! String
        let batch: @Sendable (Int) -> String = { i in #"{"changes":[{"op":"edit","path":"shared.txt","old":"base","new":"writer \#(i)"}]}"#
        }
        let results = await withTaskGroup(of: (Int, CLIHarness.Result).self) { group in
            for i in 0..<6 {
                group.addTask { (i, cli.run(["apply", "-", "--json"], stdin: batch(i))) }
            }
            return await group.reduce(into: [(Int, CLIHarness.Result)]()) { $0.append($1) }
        }
        let winners = results.filter { $0.1.status == 0 }
        let losers = results.filter { $0.1.status != 0 }
        #expect(winners.count == 1, "every edit replaces 'base', so only the first can apply")
        for loser in losers { #expect(loser.1.errorCode == "conflict" || loser.1.errorCode == "edit_no_match") }
        let winner = try #require(winners.first)
        #expect(cli.run("read", "shared.txt").stdout == "writer \(winner.0)\n")
        let log = (cli.json("log") as! [String: Any])["commits"] as! [[String: Any]]
        #expect(log.count == 3)
        #expect(((log[1]["commit"] as! [String: Any])["id"] as! String) == base)
    }
}
