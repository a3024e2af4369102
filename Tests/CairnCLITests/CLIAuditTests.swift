import Foundation
import Testing

/// The command line changes data through the Gateway too: every change it makes is committed
/// under the name given and leaves an audit entry in the same transaction.
@Suite struct CLIAuditTests {
    @Test("every changing command leaves an audit entry naming who, what and why; the chain verifies")
    func localChangesAreAudited() throws {
        let cli = try CLIHarness(project: "city")
        #expect(cli.run("write", "a.json", "--content", #"{"x": 1}"#, "-m", "first pipe").status == 0)
        #expect(cli.run("edit", "a.json", "--old", "1", "--new", "2").status == 0)
        #expect(
            cli.run(
                "apply",
                "-",
                "-m",
                "batch",
                stdin:
                    #"{"changes":[{"op":"write","path":"b.json","content":"{}"},{"op":"edit","path":"a.json","old":"2","new":"3","replaceAll":true}]}"#
            ).status == 0
        )
        #expect(cli.run("branch", "create", "dev").status == 0)
        #expect(cli.run("rm", "b.json", "-b", "dev").status == 0)
        let head = cli.run("log", "--json", "--limit", "1").object
        let commit = ((head["commits"] as? [[String: Any]])?.first?["commit"] as? [String: Any])?["id"] as? String ?? ""
        #expect(cli.run("revert", commit).status == 0)
        #expect(cli.run("branch", "delete", "dev").status == 0)
        let geojson =
            #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"p1"},"geometry":{"type":"Point","coordinates":[24.9,60.2]}}]}"#
        #expect(cli.run("import", "-", "--template", "poi/{id}.json", stdin: geojson).status == 0)
        // A refused change is audited as failed and changes nothing.
        #expect(cli.run("edit", "a.json", "--old", "nope", "--new", "x").status != 0)

        let export = cli.run("audit", "export")
        #expect(export.status == 0)
        let records = export.stdout.split(separator: "\n").compactMap { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]).flatMap {
                ($0["data"] as? [String: Any])?["record"] as? [String: Any]
            }
        }
        let actions = records.map { "\($0["action"] as? String ?? "?")/\($0["outcome"] as? String ?? "?")" }
        #expect(
            actions == [
                "organization.create/ok", "project.create/ok", "file.write/ok", "file.edit/ok", "commit/ok", "branch.create/ok",
                "file.delete/ok",
                "history.revert/ok", "branch.delete/ok", "import/ok", "file.edit/failed",
            ],
            "\(actions)"
        )
        let write = try #require(records.first { $0["action"] as? String == "file.write" })
        #expect(write["actor"] as? String == "cli-tester")
        #expect(write["credential"] as? String == "local")
        #expect(write["reason"] as? String == "first pipe")
        #expect(write["paths"] as? [String] == ["a.json"])
        #expect(write["commit"] as? String != nil)
        #expect(cli.run("verify").status == 0)
        // The system project holding access configuration is not one of the listed projects.
        #expect(cli.run("project", "list").stdout.split(separator: "\n") == ["city"])
    }
}
