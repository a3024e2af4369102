import CairnTestSupport
import Foundation
import Testing

/// OGC API – Features on a live server, read by OWSLib as GIS scripts read any feature service:
/// collections from the folders (or the ontology's entity types), every feature once across
/// pages, pages pinned to one commit while others write, bbox, and a path-scoped key that sees
/// only its own features.
@Suite struct FeatureServiceTests {
    static func point(_ lon: Double, _ lat: Double, _ name: String) -> String {
        #"{"type":"Feature","geometry":{"type":"Point","coordinates":[\#(lon),\#(lat)]},"properties":{"name":"\#(name)"}}"#
    }

    /// An extent (`[[w, s, e, n]]`) within a micro-degree of `box`.
    static func near(_ extent: [[Double]]?, _ box: [Double]) -> Bool {
        guard let e = extent, e.count == 1, e[0].count == 4 else { return false }
        return zip(e[0], box).allSatisfy { abs($0 - $1) < 1e-6 }
    }

    static func line(_ a: (Double, Double), _ b: (Double, Double)) -> String {
        #"{"type":"Feature","geometry":{"type":"LineString","coordinates":[[\#(a.0),\#(a.1)],[\#(b.0),\#(b.1)]]},"properties":{}}"#
    }

    /// 25 cabinets on a line of longitude steps, 3 ducts, 2 roads, and a note that is not a Feature.
    static func setUp() async throws -> (ServerHarness, String, String) {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        let p = "/v1/orgs/default/projects/net"
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "net"]).status == 201)
        var changes: [[String: Any]] = (0..<25).map { i in
            [
                "op": "write", "path": String(format: "fiber/cabinets/%02d.json", i),
                "content": point(24.90 + Double(i) * 0.01, 60.17, "CAB-\(i)"),
            ]
        }
        for i in 0..<3 {
            changes.append([
                "op": "write", "path": "fiber/ducts/\(i).json", "content": line((24.9, 60.16 + Double(i) * 0.01), (25.0, 60.16)),
            ])
        }
        changes.append(["op": "write", "path": "fiber/notes.json", "content": #"{"text":"not a feature"}"#])
        changes.append(["op": "write", "path": "roads/1.json", "content": line((24.9, 60.1), (24.95, 60.1))])
        changes.append(["op": "write", "path": "roads/2.json", "content": line((24.95, 60.1), (25.0, 60.1))])
        let commit = try await server.request("POST", p + "/commits", token: admin, json: ["changes": changes, "message": "the network"])
        #expect(commit.status == 200, "\(commit.text)")
        return (server, admin, p)
    }

    static func read(_ server: ServerHarness, token: String, limit: Int, bbox: [Double]? = nil) async throws -> [String: Any] {
        try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/ogc_features.py",
            ["url": server.base + "/v1/orgs/default/projects/net/ogc", "token": token, "limit": limit, "bbox": bbox as Any? ?? NSNull()]
        )
    }

    @Test(
        "OWSLib reads every feature of each folder once, a page at a time, every page at one commit; bbox narrows; a non-feature is left out"
    )
    func owslibReadsTheFolders() async throws {
        let (server, admin, _) = try await Self.setUp()
        let answer = try await Self.read(server, token: admin, limit: 7)
        #expect(
            (answer["conformsTo"] as? [String] ?? []).contains("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson")
        )
        #expect(answer["collections"] as? [String] == ["fiber", "roads"])
        let items = answer["items"] as? [String: [String]] ?? [:]
        let expected = (0..<25).map { String(format: "fiber/cabinets/%02d.json", $0) } + (0..<3).map { "fiber/ducts/\($0).json" }
        #expect(items["fiber"] == expected, "\(items["fiber"] ?? [])")
        #expect(items["roads"] == ["roads/1.json", "roads/2.json"])
        // Four full pages, then one that finds nothing: a file after the last feature (the note)
        // was still to be looked at when the fourth page filled.
        #expect((answer["pages"] as? [String: Int])?["fiber"] == 5)
        let commits = (answer["commits"] as? [String: [String]])?["fiber"] ?? []
        #expect(commits.count == 5 && Set(commits).count == 1 && commits[0].count == 64, "\(commits)")
        #expect((answer["geometryTypes"] as? [String: [String]])?["fiber"] == ["LineString", "Point"])

        // Cabinets 3 to 5 lie in this box (longitudes 24.93 to 24.95); ducts 1 and 2 reach into it
        // (duct 0 runs along latitude 60.16, south of it).
        let boxed = try await Self.read(server, token: admin, limit: 100, bbox: [24.925, 60.165, 24.955, 60.175])
        let inBox = (boxed["items"] as? [String: [String]])?["fiber"] ?? []
        #expect(
            inBox == [
                "fiber/cabinets/03.json", "fiber/cabinets/04.json", "fiber/cabinets/05.json", "fiber/ducts/1.json", "fiber/ducts/2.json",
            ],
            "\(inBox)"
        )
    }

    @Test("a page's next link reads the commit of the first page: a feature added or deleted meanwhile is neither seen nor skipped")
    func pagesArePinnedToACommit() async throws {
        let (server, admin, p) = try await Self.setUp()
        let first = try await server.request("GET", p + "/ogc/collections/fiber/items?limit=10", token: admin)
        #expect(first.status == 200 && first.headers.first { $0.key.lowercased() == "content-type" }?.value == "application/geo+json")
        var ids = (first.json["features"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        // Another writer adds a cabinet that sorts first and deletes one not yet read.
        _ = try await server.request(
            "PUT",
            p + "/files/fiber/cabinets/00a.json",
            token: admin,
            json: ["content": Self.point(24.9, 60.2, "new")]
        )
        _ = try await server.request("DELETE", p + "/files/fiber/cabinets/20.json", token: admin)
        var next = ((first.json["links"] as? [[String: Any]]) ?? []).first { $0["rel"] as? String == "next" }?["href"] as? String
        var pages = 1
        while let url = next, pages < 10 {
            let path = String(url.dropFirst(server.base.count))
            let page = try await server.request("GET", path, token: admin)
            #expect(page.status == 200, "\(page.text)")
            ids += (page.json["features"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            next = ((page.json["links"] as? [[String: Any]]) ?? []).first { $0["rel"] as? String == "next" }?["href"] as? String
            pages += 1
        }
        let expected = (0..<25).map { String(format: "fiber/cabinets/%02d.json", $0) } + (0..<3).map { "fiber/ducts/\($0).json" }
        #expect(ids == expected, "\(ids)")
        // A fresh read sees the change.
        let now = try await server.request("GET", p + "/ogc/collections/fiber/items?limit=100", token: admin)
        let current = (now.json["features"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(current.contains("fiber/cabinets/00a.json") && !current.contains("fiber/cabinets/20.json"))
    }

    @Test("datetime reads a collection as it was at that instant; an interval, or a time given twice, is 400")
    func datetimeReadsThePast() async throws {
        let (server, admin, p) = try await Self.setUp()
        try await Task.sleep(for: .milliseconds(20))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let then = formatter.string(from: Date())
        try await Task.sleep(for: .milliseconds(20))
        _ = try await server.request("DELETE", p + "/files/fiber/ducts/1.json", token: admin)
        _ = try await server.request(
            "PUT",
            p + "/files/fiber/ducts/9.json",
            token: admin,
            json: ["content": Self.line((24.9, 60.1), (25, 60.1))]
        )
        func ducts(_ query: String) async throws -> [String] {
            let reply = try await server.request("GET", p + "/ogc/collections/fiber/items?limit=100" + query, token: admin)
            return (reply.json["features"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }.filter {
                $0.hasPrefix("fiber/ducts/")
            }
        }
        #expect(try await ducts("") == ["fiber/ducts/0.json", "fiber/ducts/2.json", "fiber/ducts/9.json"])
        #expect(try await ducts("&datetime=" + then) == ["fiber/ducts/0.json", "fiber/ducts/1.json", "fiber/ducts/2.json"])
        let old = try await server.request("GET", p + "/ogc/collections/fiber/items/fiber/ducts/1.json?datetime=" + then, token: admin)
        #expect(old.status == 200 && old.json["id"] as? String == "fiber/ducts/1.json", "\(old.text)")
        let conformance = try await server.request("GET", p + "/ogc/conformance", token: admin)
        #expect((conformance.json["conformsTo"] as? [String] ?? []).contains("https://cairn.dev/spec/ogcapi-features/as-of"))
        for query in ["&datetime=" + then + "/..", "&datetime=yesterday", "&ref=main@" + then + "&datetime=" + then] {
            let reply = try await server.request("GET", p + "/ogc/collections/fiber/items?limit=1" + query, token: admin)
            #expect(reply.status == 400, "\(query): \(reply.text)")
        }
    }

    @Test("a key scoped to fiber/ducts/** sees only the ducts: one collection, three features, and a cabinet answers as absent")
    func aScopedKeySeesOnlyItsFeatures() async throws {
        let (server, admin, p) = try await Self.setUp()
        _ = try await server.request("PUT", "/v1/orgs/default/members/user:dana", token: admin, json: ["role": "viewer"])
        let minted = try await server.request(
            "POST",
            "/v1/orgs/default/keys",
            token: admin,
            json: ["subject": "user:dana", "role": "viewer", "project": "net", "path": "fiber/ducts/**"]
        )
        let scoped = try #require(minted.json["token"] as? String, "\(minted.text)")
        let answer = try await Self.read(server, token: scoped, limit: 2)
        #expect(answer["collections"] as? [String] == ["fiber"])
        #expect((answer["items"] as? [String: [String]])?["fiber"] == ["fiber/ducts/0.json", "fiber/ducts/1.json", "fiber/ducts/2.json"])
        let cabinet = try await server.request("GET", p + "/ogc/collections/fiber/items/fiber/cabinets/01.json", token: scoped)
        let missing = try await server.request("GET", p + "/ogc/collections/fiber/items/fiber/cabinets/99.json", token: scoped)
        #expect(cabinet.status == 404 && missing.status == 404)
        // The same answer as for a feature that does not exist, but for the id asked about.
        #expect(cabinet.text.replacingOccurrences(of: "01.json", with: "99.json") == missing.text, "\(cabinet.text) \(missing.text)")
        let duct = try await server.request("GET", p + "/ogc/collections/fiber/items/fiber/ducts/1.json", token: scoped)
        #expect(duct.status == 200 && duct.json["id"] as? String == "fiber/ducts/1.json", "\(duct.text)")
        // Counts and extents are the key's own: three ducts between 24.9 and 25.0, 60.16 and 60.18
        // (the cabinets reach 25.14 and 60.17 and are 25 more features).
        let fiber = try await server.request("GET", p + "/ogc/collections/fiber", token: scoped)
        let extent = ((fiber.json["extent"] as? [String: Any])?["spatial"] as? [String: Any])?["bbox"] as? [[Double]]
        #expect(Self.near(extent, [24.9, 60.16, 25.0, 60.18]), "\(fiber.text)")
        let page = try await server.request("GET", p + "/ogc/collections/fiber/items?limit=1", token: scoped)
        #expect(page.json["numberMatched"] as? Int == 3, "\(page.text)")
        let everything = try await server.request("GET", p + "/ogc/collections/fiber/items?limit=1", token: admin)
        #expect(everything.json["numberMatched"] as? Int == 28, "\(everything.text)")
        #expect(try await server.request("GET", p + "/ogc/collections/roads", token: scoped).status == 404)
        // The spatial index the key's box queries and cells are answered from is its own too.
        let boxed = try await server.request("GET", p + "/ogc/collections/fiber/items?bbox=24,60,26,61&limit=100", token: scoped)
        let boxedIDs = (boxed.json["features"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(boxedIDs == ["fiber/ducts/0.json", "fiber/ducts/1.json", "fiber/ducts/2.json"] && boxed.json["numberMatched"] as? Int == 3)
        let cells = try await server.request("GET", p + "/ogc/collections/fiber/cells?bbox=24,60,26,61&columns=3&rows=3", token: scoped)
        #expect(cells.json["numberMatched"] as? Int == 3, "\(cells.text)")
    }

    @Test("with an ontology the collections are its entity types; bad parameters are 400 and change nothing")
    func ontologyTypesAndRefusals() async throws {
        let (server, admin, p) = try await Self.setUp()
        let ontology: [String: Any] = [
            "entityTypes": [
                ["id": "cabinet", "label": "Cabinet", "match": ["glob": "fiber/cabinets/*.json"], "geometry": "Point", "properties": []],
                ["id": "duct", "match": ["glob": "fiber/ducts/*.json"], "geometry": "LineString", "properties": []],
                ["id": "note", "match": ["glob": "fiber/notes.json"], "geometry": "none", "properties": []],
            ]
        ]
        let put = try await server.request("PUT", p + "/ontology", token: admin, json: ["ontology": ontology])
        #expect(put.status == 200, "\(put.text)")
        let answer = try await Self.read(server, token: admin, limit: 10)
        #expect(answer["collections"] as? [String] == ["cabinet", "duct"])
        #expect((answer["items"] as? [String: [String]])?["cabinet"]?.count == 25)
        #expect((answer["items"] as? [String: [String]])?["duct"] == ["fiber/ducts/0.json", "fiber/ducts/1.json", "fiber/ducts/2.json"])
        let cabinet = try await server.request("GET", p + "/ogc/collections/cabinet", token: admin)
        #expect(cabinet.json["title"] as? String == "Cabinet")
        // A key scoped to the ducts is shown the one type it can see a file of.
        _ = try await server.request("PUT", "/v1/orgs/default/members/user:dana", token: admin, json: ["role": "viewer"])
        let minted = try await server.request(
            "POST",
            "/v1/orgs/default/keys",
            token: admin,
            json: ["subject": "user:dana", "role": "viewer", "project": "net", "path": "fiber/ducts/**"]
        )
        let scoped = try await Self.read(server, token: try #require(minted.json["token"] as? String), limit: 10)
        #expect(scoped["collections"] as? [String] == ["duct"])
        #expect(try await server.request("GET", p + "/ogc/collections/cabinet", token: minted.json["token"] as? String).status == 404)
        for query in [
            "/ogc/collections/cabinet/items?limit=0", "/ogc/collections/cabinet/items?limit=10001",
            "/ogc/collections/cabinet/items?bbox=1,2,3",
            "/ogc/collections/cabinet/items?bbox=0,10,1,5", "/ogc/collections/cabinet/items?status=planned",
            "/ogc/collections/cabinet/items?f=xml", "/ogc/collections/cabinet/items?cursor=%21%21",
        ] {
            let reply = try await server.request("GET", p + query, token: admin)
            #expect(
                reply.status == 400 && (reply.json["error"] as? [String: Any])?["code"] as? String == "invalid_argument",
                "\(query): \(reply.text)"
            )
        }
        #expect(try await server.request("GET", p + "/ogc/collections/nothing/items", token: admin).status == 404)
        #expect(try await server.request("GET", p + "/ogc/collections/cabinet/items/fiber/ducts/0.json", token: admin).status == 404)
        #expect(try await server.request("GET", p + "/ogc/collections", token: nil).status == 401)
    }

    @Test("property filters narrow items (and are carried by next links); extents follow writes, a removal on the edge recounted")
    func propertyFiltersAndExtents() async throws {
        let (server, admin, p) = try await Self.setUp()
        let one = try await server.request("GET", p + "/ogc/collections/fiber/items?name=CAB-3", token: admin)
        #expect(
            one.status == 200
                && (one.json["features"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["fiber/cabinets/03.json"]
        )
        #expect(one.json["numberMatched"] == nil, "a filtered page does not claim the collection's count")
        // A property no feature of the collection has is refused, as an unknown parameter is.
        let unknown = try await server.request("GET", p + "/ogc/collections/roads/items?name=CAB-3", token: admin)
        #expect(unknown.status == 400 && unknown.errorCode == "invalid_argument", "\(unknown.text)")
        func extent() async throws -> [[Double]]? {
            let c = try await server.request("GET", p + "/ogc/collections/fiber", token: admin)
            return ((c.json["extent"] as? [String: Any])?["spatial"] as? [String: Any])?["bbox"] as? [[Double]]
        }
        #expect(Self.near(try await extent(), [24.9, 60.16, 25.14, 60.18]))
        let far = #"{"type":"Feature","geometry":{"type":"Point","coordinates":[26.5,61.0]},"properties":{"name":"far"}}"#
        _ = try await server.request("PUT", p + "/files/fiber/cabinets/far.json", token: admin, json: ["content": far])
        #expect(Self.near(try await extent(), [24.9, 60.16, 26.5, 61.0]))
        _ = try await server.request("DELETE", p + "/files/fiber/cabinets/far.json", token: admin)
        #expect(Self.near(try await extent(), [24.9, 60.16, 25.14, 60.18]))
        let schema = try await server.request("GET", p + "/ogc/collections/fiber/schema", token: admin)
        let properties = (((schema.json["properties"] as? [String: Any])?["properties"] as? [String: Any])?["properties"]) as? [String: Any]
        #expect((properties?["name"] as? [String: Any])?["type"] as? String == "string", "\(schema.text)")
    }

    @Test(
        "bbox answers come from the spatial index and follow writes: equal to a filter of every feature as features are added, moved and deleted; counted; paged; aggregated in cells"
    )
    func spatialIndexFollowsWrites() async throws {
        let (server, admin, p) = try await Self.setUp()
        // Points in a region of their own (lon 10–11, lat 50–51), away from the cabinets.
        var rng = SystemRandomNumberGenerator()
        var points: [String: (Double, Double)] = [:]
        func commit(_ changes: [[String: Any]]) async throws {
            let r = try await server.request("POST", p + "/commits", token: admin, json: ["changes": changes, "message": "points"])
            #expect(r.status == 200, "\(r.text)")
        }
        func write(_ names: some Sequence<Int>) -> [[String: Any]] {
            names.map { i in
                let at = (Double.random(in: 10...11, using: &rng), Double.random(in: 50...51, using: &rng))
                let path = String(format: "fiber/pts/%05d.json", i)
                points[path] = at
                return ["op": "write", "path": path, "content": Self.point(at.0, at.1, "P\(i)")]
            }
        }
        func ids(_ query: String) async throws -> (ids: [String], matched: Int?) {
            let r = try await server.request("GET", p + "/ogc/collections/fiber/items?limit=10000&" + query, token: admin)
            #expect(r.status == 200, "\(r.text)")
            return ((r.json["features"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }, r.json["numberMatched"] as? Int)
        }
        func check(_ stage: String) async throws {
            for q in 0..<12 {
                let size = q % 4 == 0 ? 0.8 : 0.15
                let (w, s) = (Double.random(in: 9.9...(11 - size), using: &rng), Double.random(in: 49.9...(51 - size), using: &rng))
                let box = [w, s, w + size, s + size]
                let expected = points.filter {
                    $0.value.0 >= box[0] && $0.value.0 <= box[2] && $0.value.1 >= box[1] && $0.value.1 <= box[3]
                }
                .keys.sorted()
                let got = try await ids("bbox=" + box.map { String($0) }.joined(separator: ","))
                #expect(got.ids == expected, "\(stage): box \(box)")
                #expect(got.matched == expected.count, "\(stage): numberMatched")
            }
        }
        try await commit(write(0..<1200))
        try await check("1,200 points added in one commit")
        // A few changes at a time: moved, deleted, added (the index's overlay), then many (a rebuild).
        try await commit(write(stride(from: 0, to: 300, by: 6)))
        var deletes: [[String: Any]] = []
        for i in stride(from: 3, to: 300, by: 6) {
            let path = String(format: "fiber/pts/%05d.json", i)
            points[path] = nil
            deletes.append(["op": "delete", "path": path])
        }
        try await commit(deletes)
        try await commit(write(5000..<5040))
        try await check("points moved, deleted and added")
        try await commit(write(1000..<2100))
        try await check("1,100 more changed")

        // Pages within a box go on from the cursor, each feature once.
        let box = "10,50,10.5,51"
        let whole = try await ids("bbox=" + box).ids
        var paged: [String] = []
        var next: String? = p + "/ogc/collections/fiber/items?limit=97&bbox=" + box
        while let url = next, paged.count <= whole.count {
            let page = try await server.request("GET", url.hasPrefix("http") ? String(url.dropFirst(server.base.count)) : url, token: admin)
            #expect(page.status == 200 && page.json["numberMatched"] as? Int == whole.count, "\(page.text)")
            paged += (page.json["features"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            next = ((page.json["links"] as? [[String: Any]]) ?? []).first { $0["rel"] as? String == "next" }?["href"] as? String
        }
        #expect(paged == whole && whole.count > 300)

        // Cells: a 4 × 5 grid over the region counts each point in its cell.
        let cells = try await server.request("GET", p + "/ogc/collections/fiber/cells?bbox=10,50,11,51&columns=4&rows=5", token: admin)
        #expect(cells.status == 200, "\(cells.text)")
        var expected: [String: Int] = [:]
        for (x, y) in points.values { expected["\(min(3, Int((x - 10) * 4))),\(min(4, Int((y - 50) * 5)))", default: 0] += 1 }
        var got: [String: Int] = [:]
        for c in cells.json["cells"] as? [[String: Any]] ?? [] {
            got["\(c["column"] as? Int ?? -1),\(c["row"] as? Int ?? -1)"] = c["count"] as? Int
        }
        #expect(got == expected)
        #expect(cells.json["numberMatched"] as? Int == points.count)
        // Without a box the grid covers the collection's extent: every feature, cabinets and ducts too.
        let all = try await server.request("GET", p + "/ogc/collections/fiber/cells?columns=2&rows=2", token: admin)
        #expect(all.json["numberMatched"] as? Int == points.count + 28, "\(all.text)")
        // Bad grids are refused.
        for bad in ["columns=0", "rows=257", "bbox=1,2,3", "bbox=0,10,1,5", "colour=red"] {
            let r = try await server.request("GET", p + "/ogc/collections/fiber/cells?" + bad, token: admin)
            #expect(r.status == 400 && r.errorCode == "invalid_argument", "\(bad): \(r.text)")
        }
        // A box across the antimeridian finds features on both sides of it.
        try await commit([
            ["op": "write", "path": "fiber/east.json", "content": Self.point(179.5, 10, "east")],
            ["op": "write", "path": "fiber/west.json", "content": Self.point(-179.5, 10, "west")],
        ])
        #expect(try await ids("bbox=179,9,-179,11").ids == ["fiber/east.json", "fiber/west.json"])
        // A collection of one point has an extent of no size; coordinates as large as JSON numbers
        // go make one of infinite size: both are counted in cells, and nothing traps.
        _ = try await server.request("PUT", p + "/files/lone/1.json", token: admin, json: ["content": Self.point(25, 60, "lone")])
        let lone = try await server.request("GET", p + "/ogc/collections/lone/cells?columns=8&rows=8", token: admin)
        #expect(lone.status == 200 && lone.json["numberMatched"] as? Int == 1, "\(lone.text)")
        let huge = #"{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[1e308,-1e308],[-1e308,1e308]]},"properties":{}}"#
        _ = try await server.request("PUT", p + "/files/lone/huge.json", token: admin, json: ["content": huge])
        let both = try await server.request("GET", p + "/ogc/collections/lone/cells?columns=8&rows=8", token: admin)
        #expect(both.status == 200 && both.json["numberMatched"] as? Int == 2, "\(both.text)")
        #expect(try await ids("bbox=24,59,26,61").ids.contains("fiber/east.json") == false)
        let loneItems = try await server.request("GET", p + "/ogc/collections/lone/items?bbox=24,59,26,61", token: admin)
        #expect(loneItems.status == 200 && loneItems.json["numberMatched"] as? Int == 2, "\(loneItems.text)")
    }
}
