import Foundation
import Testing

@Suite struct CLIHistoryCommandTests {
    @Test func logShowDiffBlameBranchRevert() throws {
        let cli = try CLIHarness()
        cli.run("write", "site.json", "--content", #"{"name":"A","capacity":10}"#, "-m", "site", "--author", "ann")
        let first = (cli.json("show") as! [String: Any])["commit"] as! [String: Any]
        let firstID = first["id"] as! String
        #expect(first["author"] as? String == "ann")
        #expect(first["message"] as? String == "site")
        cli.run("edit", "site.json", "--old", "10", "--new", "25", "-m", "more capacity", "--author", "bob")
        let diff = cli.json("diff", String(firstID.prefix(8)), "main") as! [String: Any]
        let files = diff["files"] as! [[String: Any]]
        #expect(files.count == 1)
        let pointer = (files[0]["json"] as! [[String: Any]])[0]
        #expect(pointer["pointer"] as? String == "/capacity")
        #expect(pointer["before"] as? Int == 10)
        #expect(pointer["after"] as? Int == 25)
        #expect(cli.run("diff", firstID, "main").stdout.contains("/capacity: 10 → 25"))

        let blame = cli.json("blame", "site.json") as! [[String: Any]]
        let by = Dictionary(uniqueKeysWithValues: blame.map { ($0["pointer"] as! String, $0["author"] as! String) })
        #expect(by == ["/name": "ann", "/capacity": "bob"])

        let pathLog = cli.json("log", "--path", "site.json", "--limit", "1") as! [String: Any]
        #expect((pathLog["commits"] as! [[String: Any]]).count == 1)
        let next = try #require(pathLog["next"] as? String)
        let rest = cli.json("log", "--path", "site.json", "--cursor", next) as! [String: Any]
        #expect(((rest["commits"] as! [[String: Any]])[0]["commit"] as! [String: Any])["id"] as? String == firstID)

        #expect(cli.run("branch", "create", "plan/b", "--from", firstID).status == 0)
        cli.run("write", "other.json", "--content", "{}", "-b", "plan/b")
        let branches = cli.json("branch", "list") as! [[String: Any]]
        #expect(branches.map { $0["name"] as! String } == ["main", "plan/b"])
        cli.fails("not_found", "read", "other.json")
        #expect(cli.run("read", "site.json", "--at", "plan/b").stdout.contains("10"))
        cli.fails("branch_exists", "branch", "create", "plan/b")
        #expect(cli.run("branch", "delete", "plan/b").status == 0)

        let head = ((cli.json("show") as! [String: Any])["commit"] as! [String: Any])["id"] as! String
        #expect(cli.run("revert", head, "-m", "undo capacity").status == 0)
        #expect(cli.run("read", "site.json").stdout.contains("\"capacity\":10"))
        #expect(cli.run("read", "site.json", "--at", "main~1").stdout.contains("\"capacity\":25"))
    }

    @Test func verifyIsCleanAndNamesATamperedObject() throws {
        let cli = try CLIHarness()
        cli.run("write", "a.json", "--content", #"{"owner":"city"}"#)
        #expect(cli.run("verify").status == 0)
        let blob = (cli.json("read", "a.json") as! [String: Any])["blob"] as! String
        // Flip stored bytes directly in the database, behind Cairn's back.
        let status = try cli.tamper(
            sqlite: "UPDATE object SET data = CAST(REPLACE(CAST(data AS TEXT), 'city', 'evil') AS BLOB) WHERE hex(id) = upper('\(blob)');",
            postgres:
                "UPDATE object SET data = convert_to(replace(convert_from(data, 'UTF8'), 'city', 'evil'), 'UTF8') WHERE id = '\\x\(blob)'::bytea;"
        )
        #expect(status == 0)
        let r = cli.run("verify")
        #expect(r.status == 2)
        #expect(r.stdout.contains(blob))
        let json = cli.run("verify", "--json")
        #expect(json.status == 2)
        #expect(json.stdout.contains("does not hash"))
    }

    @Test func importsHelsinkiAsOneCommit() throws {
        let file = CLIHarness.sharedData.appendingPathComponent("helsinki.geojsonseq").path
        try #require(FileManager.default.fileExists(atPath: file), "shared data missing at \(file)")
        let cli = try CLIHarness()
        let out = cli.json("import", file, "--template", "osm/{@type}/{@id}-{geometry.type}.json") as! [String: Any]
        #expect(out["features"] as? Int == 13_698)
        let log = cli.json("log") as! [String: Any]
        #expect((log["commits"] as! [Any]).count == 2, "the import is one commit")
        let paths = (cli.json("glob", "osm/**") as! [String: Any])["paths"] as! [String]
        #expect(paths.count == 13_698)
        #expect(paths.contains("osm/node/25291565-Point.json"))
        #expect(cli.run("read", "osm/node/25291565-Point.json").stdout.contains("traffic_signals"))
        let signals = cli.json("grep", "traffic_signals", "--mode", "count") as! [String: Any]
        #expect((signals["counts"] as! [Any]).count > 100)
        // A template that collides names both features and imports nothing.
        let bad = cli.fails("invalid_argument", "import", file, "--template", "osm/{@type}/{@id}.json")
        #expect(bad.stdout.contains("feature"))
        #expect((cli.json("log") as! [String: Any])["commits"].map { ($0 as! [Any]).count } == 2)
        #expect(cli.run("verify").status == 0)
    }

    @Test("an import in a system PROJ cannot read, or in metres that name no system, is refused with what to do; nothing is stored")
    func importRefusesProjectedCoordinates() throws {
        let cli = try CLIHarness()
        let before = (cli.json("log") as! [String: Any])["commits"].map { ($0 as! [Any]).count }
        // A `crs` member naming a system that does not exist.
        let named =
            #"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::999999"}},"#
            + #""features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[385785.5,6672398.1]},"properties":{"id":1}}]}"#
        let refused = cli.fails("invalid_argument", "import", "-", "--template", "x/{id}.json", stdin: named)
        #expect(refused.stdout.contains("999999"), "\(refused.stdout)")
        // The same metres without the member: the position cannot be degrees.
        let bare =
            #"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[24.9,60.1]},"#
            + #""properties":{"id":1}},{"type":"Feature","geometry":{"type":"LineString","coordinates":[[385785.5,6672398.1],[385800,6672400]]},"#
            + #""properties":{"id":2}}]}"#
        let ranged = cli.fails("invalid_argument", "import", "-", "--template", "x/{id}.json", stdin: bare)
        #expect(ranged.stdout.contains("feature 2") && ranged.stdout.contains("385785.5"), "\(ranged.stdout)")
        #expect((cli.json("log") as! [String: Any])["commits"].map { ($0 as! [Any]).count } == before)
        // CRS84 named explicitly is what GeoJSON means anyway.
        let crs84 =
            #"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"#
            + #""features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[24.9,60.1]},"properties":{"id":1}}]}"#
        #expect(cli.run("import", "-", "--template", "x/{id}.json", stdin: crs84).status == 0)
    }

    @Test func importsAFeatureCollection() throws {
        let file = CLIHarness.sharedData.appendingPathComponent("helsinki-roads.geojson").path
        try #require(FileManager.default.fileExists(atPath: file), "shared data missing at \(file)")
        let cli = try CLIHarness()
        let out = cli.json("import", file, "--template", "roads/{highway}/{@id}.json", "-m", "roads") as! [String: Any]
        #expect(out["features"] as? Int == 2_417)
        let paths = (cli.json("glob", "roads/**") as! [String: Any])["paths"] as! [String]
        #expect(paths.count == 2_417)
        #expect(paths.contains { $0.hasPrefix("roads/unclassified/") })
        let road = cli.json("read", "roads/unclassified/4236349.json") as! [String: Any]
        #expect((road["lines"] as! [String])[0].contains("Erottajankatu"))
        cli.fails("invalid_argument", "import", file, "--template", "roads/{nosuchproperty}.json")
        cli.fails("invalid_argument", "import", "-", "--template", "x/{#}.json", stdin: #"{"type":"Point","coordinates":[0,0]}"#)
        cli.fails("invalid_argument", "import", "-", "--template", "x/{#}.json", stdin: "not json at all")
    }
}
