import CairnTestSupport
import Foundation
import Testing

/// GIS interoperability (issue 21) with the field's own tools: GDAL's ogrinfo and ogr2ogr read
/// the OGC API service and round-trip an export; pyproj checks coordinate systems on import and
/// on output (Part 2); 13,698 Helsinki features paged while another client writes.
@Suite struct GISInteropTests {
    static let api = "/v1/orgs/default/projects/city"

    /// A server with the Helsinki features (13,698) imported into project `city`.
    static func helsinki() async throws -> (ServerHarness, String) {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "city"]).status == 201)
        let file = CLIHarness.sharedData.appendingPathComponent("helsinki.geojsonseq").path
        let imported = server.cli.run("import", file, "-p", "city", "--template", "osm/{@type}/{@id}-{geometry.type}.json")
        #expect(imported.status == 0, "\(imported.stderr)")
        return (server, admin)
    }

    static func features(_ reply: ServerHarness.Reply) -> [[String: Any]] { reply.json["features"] as? [[String: Any]] ?? [] }

    @Test("ogrinfo counts the collections, ogr2ogr copies one into a GeoPackage equal to the store, and an export round-trips")
    func gdalReadsAndRoundTrips() async throws {
        let (server, admin) = try await Self.helsinki()
        _ = try await server.request(
            "PUT",
            Self.api + "/files/sites/a.json",
            token: admin,
            json: ["content": #"{"type":"Feature","geometry":{"type":"Point","coordinates":[24.94,60.17]},"properties":{"kind":"site"}}"#]
        )
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("gdal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let answer = try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/gdal_client.py",
            ["url": server.base, "project": "city", "token": admin, "collection": "osm", "glob": "osm/**", "dir": scratch.path]
        )
        #expect(answer["layers"] as? [String: Int] == ["osm": 13_698, "sites": 1], "\(answer)")
        #expect(answer["copied"] as? Int == 13_698 && answer["expected"] as? Int == 13_698, "\(answer)")
        #expect((answer["mismatches"] as? [String])?.isEmpty == true, "\(answer["mismatches"] ?? "")")

        // The export, through ogr2ogr, imported into another project lands on the same files.
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "back"]).status == 201)
        let roundTrip = try #require(answer["roundTrip"] as? String)
        let back = server.cli.run("import", roundTrip, "-p", "back", "--paths-from-ids")
        #expect(back.status == 0, "\(back.stderr)")
        let before = try await server.request("GET", Self.api + "/export?glob=osm/**", token: admin)
        let after = try await server.request("GET", "/v1/orgs/default/projects/back/export?glob=osm/**", token: admin)
        let a = Self.features(before)
        let b = Self.features(after)
        #expect(a.count == 13_698 && b.count == 13_698)
        #expect(NSArray(array: a).isEqual(to: b), "the files read back differ from the exported ones")
    }

    @Test("13,698 features paged 1,000 at a time while another client writes: none skipped or repeated, every page at one commit")
    func pagingUnderWrites() async throws {
        let (server, admin) = try await Self.helsinki()
        let items = Self.api + "/ogc/collections/osm/items?limit=1000"
        let first = try await server.request("GET", items, token: admin)
        #expect(first.status == 200 && first.json["numberMatched"] as? Int == 13_698, "\(first.text.prefix(300))")
        var ids = Self.features(first).compactMap { $0["id"] as? String }
        var commits: Set<String> = []
        var next = Self.link(first, "next")
        var pages = 1
        while let url = next, pages < 30 {
            // Another client changes the collection between every two pages: a feature added that
            // sorts first, and one not yet read deleted.
            let new = #"{"type":"Feature","geometry":{"type":"Point","coordinates":[24.94,60.17]},"properties":{}}"#
            _ = try await server.request("PUT", Self.api + "/files/osm/node/0\(pages).json", token: admin, json: ["content": new])
            let page = try await server.request("GET", String(url.dropFirst(server.base.count)), token: admin)
            #expect(page.status == 200)
            ids += Self.features(page).compactMap { $0["id"] as? String }
            commits.formUnion(
                (URLComponents(string: Self.link(page, "self") ?? "")?.queryItems ?? []).filter { $0.name == "ref" }.compactMap(\.value)
            )
            next = Self.link(page, "next")
            pages += 1
        }
        #expect(pages == 14 && ids.count == 13_698 && Set(ids).count == 13_698, "\(pages) pages, \(ids.count) ids")
        #expect(commits.count == 1, "\(commits)")
        #expect(!ids.contains { $0.hasPrefix("osm/node/0") })
        // The count follows the writes: the summary is carried forward from the commit before.
        let now = try await server.request("GET", items + "&limit=1", token: admin)
        #expect(now.json["numberMatched"] as? Int == 13_698 + 13, "\(now.text.prefix(300))")
    }

    static func link(_ reply: ServerHarness.Reply, _ rel: String) -> String? {
        ((reply.json["links"] as? [[String: Any]]) ?? []).first { $0["rel"] as? String == rel }?["href"] as? String
    }

    @Test("import transforms EPSG:3067 and EPSG:3879 with PROJ (within 1 mm of pyproj), records the source system; Part 2 output")
    func coordinateSystems() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "city"]).status == 201)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("crs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let made = try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/crs_samples.py",
            ["mode": "make", "dir": scratch.path]
        )
        let points = try #require(made["points"] as? [[Double]])
        let named = scratch.appendingPathComponent("named.geojson").path
        let bare = scratch.appendingPathComponent("bare.geojson").path

        // Metres without a system are refused, naming the feature, and nothing is stored.
        let refused = server.cli.run("import", bare, "-p", "city", "--template", "b/{n}.json", "--json")
        #expect(refused.status != 0 && refused.errorCode == "invalid_argument" && refused.stdout.contains("feature 1"), "\(refused.stdout)")
        // An unknown system is refused by name.
        let unknown = server.cli.run("import", bare, "-p", "city", "--template", "b/{n}.json", "--crs", "EPSG:999999", "--json")
        #expect(unknown.status != 0 && unknown.stdout.contains("EPSG:999999"), "\(unknown.stdout)")
        #expect(server.cli.run("import", named, "-p", "city", "--template", "a/{n}.json").status == 0)
        #expect(server.cli.run("import", bare, "-p", "city", "--template", "b/{n}.json", "--crs", "EPSG:3879").status == 0)
        let log = server.cli.run("log", "-p", "city", "--json").stdout
        #expect(log.contains("Source-CRS: urn:ogc:def:crs:EPSG::3067") && log.contains("Source-CRS: EPSG:3879"), "\(log.prefix(800))")

        func positions(_ reply: ServerHarness.Reply) -> [[Double]] {
            Self.features(reply).map { (($0["geometry"] as? [String: Any])?["coordinates"] as? [Double]) ?? [] }
        }
        for folder in ["a", "b"] {
            let stored = try await server.request("GET", Self.api + "/export?glob=\(folder)/*", token: admin)
            let order = Self.features(stored).map { (($0["properties"] as? [String: Any])?["n"] as? Int) ?? -1 }
            #expect(order.count == 12)
            let sorted = zip(order, positions(stored)).sorted { $0.0 < $1.0 }.map(\.1)
            let check = try await PythonReference.run(
                "Tests/CairnCLITests/Support/python/crs_samples.py",
                ["mode": "check", "points": points, "stored": sorted, "served": [String: Any]()]
            )
            #expect((check["storedErrorMetres"] as? Double ?? 1) < 0.001, "\(folder): \(check)")
        }

        // Output in the systems the ontology declares, in each system's axis order (Part 2).
        let ontology: [String: Any] = [
            "entityTypes": [["id": "site", "match": ["glob": "a/*.json"], "geometry": "Point", "properties": []]],
            "crs": ["EPSG:3067", "EPSG:3879"],
        ]
        let put = try await server.request("PUT", Self.api + "/ontology", token: admin, json: ["ontology": ontology])
        #expect(put.status == 200, "\(put.text)")
        let collection = try await server.request("GET", Self.api + "/ogc/collections/site", token: admin)
        let systems = collection.json["crs"] as? [String] ?? []
        #expect(systems.contains("http://www.opengis.net/def/crs/EPSG/0/3879") && systems.count == 4, "\(systems)")
        var served: [String: [[Double]]] = [:]
        for code in ["3067", "3879", "4326"] {
            let uri = "http://www.opengis.net/def/crs/EPSG/0/\(code)"
            let reply = try await server.request("GET", Self.api + "/ogc/collections/site/items?limit=100&crs=\(uri)", token: admin)
            #expect(
                reply.status == 200 && (reply.headers["Content-Crs"] ?? reply.headers["content-crs"]) == "<\(uri)>",
                "\(reply.headers) \(reply.text.prefix(200))"
            )
            let order = Self.features(reply).map { (($0["properties"] as? [String: Any])?["n"] as? Int) ?? -1 }
            served["EPSG:\(code)"] = zip(order, positions(reply)).sorted { $0.0 < $1.0 }.map(\.1)
        }
        let check = try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/crs_samples.py",
            ["mode": "check", "points": points, "stored": points, "served": served]
        )
        for (system, error) in check["servedErrorMetres"] as? [String: Double] ?? [:] {
            #expect(error < 0.001, "\(system): \(error) m")
        }
        #expect((check["servedErrorMetres"] as? [String: Double])?.count == 3)
        // A bbox in EPSG:3879 (northing first) around the first three points selects just them.
        let p = try #require(served["EPSG:3879"])
        let box = [p[0][0] - 1, p[0][1] - 1, p[2][0] + 1, p[2][1] + 1].map { String($0) }.joined(separator: ",")
        let boxed = try await server.request(
            "GET",
            Self.api + "/ogc/collections/site/items?limit=100&bbox=\(box)&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3879",
            token: admin
        )
        #expect(
            Set(Self.features(boxed).compactMap { $0["id"] as? String }) == ["a/0.json", "a/1.json", "a/2.json"],
            "\(boxed.text.prefix(300))"
        )
        // A system the collection is not served in, or a bbox-crs without a bbox, is 400.
        for query in ["crs=http://www.opengis.net/def/crs/EPSG/0/2393", "bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3879"] {
            let reply = try await server.request("GET", Self.api + "/ogc/collections/site/items?" + query, token: admin)
            #expect(reply.status == 400 && reply.errorCode == "invalid_argument", "\(query): \(reply.text)")
        }
        // An ontology naming a system PROJ does not know is refused.
        var bad = ontology
        bad["crs"] = ["EPSG:999999"]
        let refusedOntology = try await server.request("PUT", Self.api + "/ontology", token: admin, json: ["ontology": bad])
        #expect(refusedOntology.status == 422 || refusedOntology.status == 400, "\(refusedOntology.text)")
    }
}
