import Foundation
import Testing

/// The Run primitive over HTTP on the Helsinki roads: answers, determinism, provenance, errors.
@Suite struct RunSurfaceTests {
    /// Three one-way roads round a triangle a→b→c→a, and a two-way road from c to d.
    static func triangle(_ server: ServerHarness) throws {
        let roads: [(String, [[Double]], String)] = [
            ("ab", [[25.0, 60.0], [25.01, 60.0]], "yes"), ("bc", [[25.01, 60.0], [25.01, 60.01]], "yes"),
            ("ca", [[25.01, 60.01], [25.0, 60.0]], "yes"), ("cd", [[25.01, 60.01], [25.02, 60.01]], "no"),
        ]
        for (name, coords, oneway) in roads {
            let road =
                #"{"type":"Feature","properties":{"highway":"residential","oneway":""#
                + oneway + #""},"geometry":{"type":"LineString","coordinates":"# + "\(coords)}}"
            #expect(server.cli.run("write", "roads/\(name).json", "-p", "grid", "--content", road, "-m", "road").status == 0)
        }
    }

    @Test(
        "HTTP and CLI: batch routes and a matrix answer as single routes do; the road set is named by one id that follows the roads through later commits; oversized batches are refused"
    )
    func batchesAndRoadSets() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        let p = "/v1/orgs/default/projects/grid"
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "grid"]).status == 201)
        try Self.triangle(server)
        let (a, b, c, d) = ([25.0, 60.0], [25.01, 60.0], [25.01, 60.01], [25.02, 60.01])
        func single(_ from: [Double], _ to: [Double]) async throws -> Double? {
            let r = try await server.request("POST", p + "/run", token: admin, json: ["function": "route", "points": [from, to]])
            return (r.json["result"] as? [String: Any])?["length"] as? Double
        }
        let pairs = [[a, b], [b, a], [a, d], [d, a], [c, c]]
        let batch = try await server.request("POST", p + "/run", token: admin, json: ["function": "routes", "pairs": pairs])
        #expect(batch.status == 200, "\(batch.text)")
        let legs = (batch.json["result"] as? [String: Any])?["legs"] as? [[String: Any]] ?? []
        #expect(legs.count == pairs.count)
        for (pair, leg) in zip(pairs, legs) {
            let one = try await single(pair[0], pair[1])
            #expect(leg["reachable"] as? Bool == true && leg["length"] as? Double == one, "\(pair): \(leg) vs \(one ?? -1)")
        }
        // b→a goes round the triangle (b→c→a), longer than a→b.
        #expect((legs[1]["length"] as? Double ?? 0) > (legs[0]["length"] as? Double ?? 0) * 2)

        let points = [a, b, c, d]
        let matrix = try await server.request("POST", p + "/run", token: admin, json: ["function": "matrix", "points": points])
        #expect(matrix.status == 200, "\(matrix.text)")
        let costs = (matrix.json["result"] as? [String: Any])?["costs"] as? [[Double]] ?? []
        #expect(costs.count == 4)
        for i in points.indices {
            for j in points.indices {
                let one = i == j ? 0 : try await single(points[i], points[j])
                #expect(costs[i][j] == one, "\(i)→\(j): \(costs[i][j]) vs \(one ?? -1)")
            }
        }
        let roadsID = try #require((matrix.json["roads"] as? [String: Any])?["id"] as? String)

        // The CLI asks the same.
        let cli = server.cli.run(
            "run",
            "matrix",
            "-p",
            "grid",
            "--point",
            "25.0,60.0",
            "--destination",
            "25.01,60.0",
            "--destination",
            "25.02,60.01",
            "--json"
        )
        let cliCosts = (cli.object["result"] as? [String: Any])?["costs"] as? [[Double]]
        #expect(cliCosts == [[costs[0][1], costs[0][3]]], "\(cli.stdout) \(cli.stderr)")
        #expect(server.cli.run("run", "routes", "-p", "grid", "--pair", "25.0,60.0", "--json").status != 0)

        // A commit that touches no road keeps the road set; one that changes a road changes it, and the answer with it.
        #expect(server.cli.run("write", "notes/x.json", "-p", "grid", "--content", "{}", "-m", "note").status == 0)
        let again = try await server.request("POST", p + "/run", token: admin, json: ["function": "matrix", "points": points])
        #expect((again.json["roads"] as? [String: Any])?["id"] as? String == roadsID)
        #expect((again.json["result"] as? [String: Any])?["costs"] as? [[Double]] == costs)
        let twoWay =
            #"{"type":"Feature","properties":{"highway":"residential","oneway":"no"},"geometry":{"type":"LineString","coordinates":"#
            + "\([[25.0, 60.0], [25.01, 60.0]])}}"
        #expect(server.cli.run("write", "roads/ab.json", "-p", "grid", "--content", twoWay, "-m", "ab both ways").status == 0)
        let changed = try await server.request("POST", p + "/run", token: admin, json: ["function": "matrix", "points": points])
        #expect((changed.json["roads"] as? [String: Any])?["id"] as? String != roadsID)
        let now = (changed.json["result"] as? [String: Any])?["costs"] as? [[Double]] ?? []
        #expect(now.count == 4 && abs(now[1][0] - costs[0][1]) < 1e-9, "b→a is now the road itself: \(now)")
        // As of before the change, the old road set and the old answer.
        let before = try await server.request(
            "POST",
            p + "/run",
            token: admin,
            json: ["function": "matrix", "points": points, "ref": "main~1"]
        )
        #expect((before.json["roads"] as? [String: Any])?["id"] as? String == roadsID)
        #expect((before.json["result"] as? [String: Any])?["costs"] as? [[Double]] == costs)

        // Too much in one request is refused before any road is read.
        let many = Array(repeating: [a, b], count: 10_001)
        let tooMany = try await server.request("POST", p + "/run", token: admin, json: ["function": "routes", "pairs": many])
        #expect(tooMany.status == 400, "\(tooMany.text.prefix(200))")
        let grid = (0..<501).map { [25.0 + Double($0) * 1e-5, 60.0] }
        let tooBig = try await server.request("POST", p + "/run", token: admin, json: ["function": "matrix", "points": grid])
        #expect(tooBig.status == 400 && tooBig.text.contains("251001"), "\(tooBig.text.prefix(200))")
        for body in [
            ["function": "routes", "pairs": [[a]]] as [String: Any], ["function": "routes"],
            ["function": "matrix", "points": [a], "destinations": []],
            ["function": "route", "points": [a, b], "provenance": "all"],
        ] {
            let r = try await server.request("POST", p + "/run", token: admin, json: body)
            #expect(r.status == 400, "\(body): \(r.text)")
        }
    }

    @Test(
        "HTTP: route, snap and isochrone on the Helsinki roads; the same request gives the same bytes; with output the result is written with its provenance"
    )
    func runOverHTTP() async throws {
        // Each Run reads all 2,417 road files; with every suite running on 2 cores one once took
        // over the default 30 s request limit. What is asserted is the answer, not its time.
        let server = try await ServerHarness(environment: ["CAIRN_REQUEST_TIMEOUT": "300"])
        let admin = try server.adminToken()
        let p = "/v1/orgs/default/projects/city"
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "city"]).status == 201)
        let roads = CLIHarness.sharedData.appendingPathComponent("helsinki-roads.geojson").path
        let imported = server.cli.run("import", roads, "-p", "city", "--template", "roads/{@id}.json", "-m", "roads")
        #expect(imported.status == 0, "\(imported.stderr)")

        let route: [String: Any] = ["function": "route", "points": [[24.9384, 60.1699], [24.9525, 60.1718]], "weight": "time"]
        let first = try await server.request("POST", p + "/run", token: admin, json: route)
        #expect(first.status == 200, "\(first.text)")
        let result = first.json["result"] as? [String: Any] ?? [:]
        #expect(
            (result["length"] as? Double ?? 0) > 500 && (result["time"] as? Double ?? 0) > 0 && !(result["roads"] as? [Any] ?? []).isEmpty
        )
        #expect((result["geometry"] as? [String: Any])?["type"] as? String == "LineString")
        // The road files are named by one content id; listed one by one (with their blobs) on request.
        let roadSet = first.json["roads"] as? [String: Any] ?? [:]
        let roadsID = try #require(roadSet["id"] as? String, "\(first.text.prefix(300))")
        #expect(roadsID.count == 64 && roadSet["files"] as? Int == 2417 && roadSet["glob"] as? String == "roads/**")
        #expect((first.json["inputs"] as? [Any])?.isEmpty == true)
        var listed = route
        listed["provenance"] = "full"
        let full = try await server.request("POST", p + "/run", token: admin, json: listed)
        #expect((full.json["inputs"] as? [Any])?.count == 2417, "every road file read, with its blob")
        #expect((full.json["roads"] as? [String: Any])?["id"] as? String == roadsID && full.json["result"] != nil)
        let again = try await server.request("POST", p + "/run", token: admin, json: route)
        #expect(again.body == first.body, "byte-identical for the same inputs at the same commit")

        // A point exactly on a junction where a one-way street meets a footway is that junction:
        // the footway joins the two points directly (5.179 m), both ways (issue 23).
        for points in [[[24.9451307, 60.1719068], [24.9450372, 60.1719043]], [[24.9450372, 60.1719043], [24.9451307, 60.1719068]]] {
            let junction = try await server.request("POST", p + "/run", token: admin, json: ["function": "route", "points": points])
            let leg = junction.json["result"] as? [String: Any] ?? [:]
            #expect(
                abs((leg["length"] as? Double ?? 0) - 5.179) < 0.001 && leg["roads"] as? [String] == ["300219579"],
                "\(junction.text.prefix(400))"
            )
        }
        let start = try await server.request(
            "POST",
            p + "/run",
            token: admin,
            json: ["function": "isochrone", "points": [[24.9428198, 60.1718177]], "budget": 100]
        )
        let reached = start.json["result"] as? [String: Any] ?? [:]
        let nodes = reached["nodes"] as? [[String: Any]] ?? []
        let costs = reached["costs"] as? [Double] ?? []
        #expect(
            zip(nodes, costs).contains { $0.0["lon"] as? Double == 24.9428198 && $0.0["lat"] as? Double == 60.1718177 && $0.1 == 0 },
            "the start node is in its isochrone at cost 0: \(start.text.prefix(400))"
        )

        let snap = try await server.request("POST", p + "/run", token: admin, json: ["function": "snap", "points": [[24.9384, 60.1699]]])
        let snapped = (snap.json["result"] as? [[String: Any]])?.first
        #expect((snapped?["distance"] as? Double).map { $0 < 100 } == true && snapped?["road"] as? String != nil)

        let nearest = try await server.request(
            "POST",
            p + "/run",
            token: admin,
            json: ["function": "nearest", "points": [[24.9384, 60.1699]], "inputs": ["roads/*.json"]]
        )
        let hit = (nearest.json["result"] as? [[String: Any]])?.first
        #expect(
            nearest.status == 200 && (hit?["id"] as? String)?.hasPrefix("roads/") == true
                && (hit?["distance"] as? Double).map { $0 < 100 } == true,
            "\(nearest.text.prefix(300))"
        )

        let iso = try await server.request(
            "POST",
            p + "/run",
            token: admin,
            json: [
                "function": "isochrone", "points": [[24.9384, 60.1699]], "budget": 500, "output": "analysis/iso.json",
                "message": "reach in 500 m", "provenance": "full",
            ]
        )
        #expect(iso.status == 200, "\(iso.text)")
        #expect(((iso.json["result"] as? [String: Any])?["polygon"] as? [String: Any])?["type"] as? String == "Polygon")
        #expect((iso.json["output"] as? [String: Any])?["commit"] as? String != nil)
        let written = try await server.request("GET", p + "/files/analysis/iso.json?raw=true", token: admin)
        let doc = try JSONSerialization.jsonObject(with: written.body) as? [String: Any] ?? [:]
        #expect(doc["function"] as? String == "isochrone" && doc["commit"] as? String == first.json["commit"] as? String)
        #expect(
            (doc["inputs"] as? [[String: Any]])?.first?["blob"] as? String != nil
                && (doc["parameters"] as? [String: Any])?["budget"] as? Int == 500
        )
        #expect((doc["roads"] as? [String: Any])?["id"] as? String == roadsID)

        // Distances both ways, and a geodesic area: values from geographiclib (GeodSolve).
        let distance = try await server.request(
            "POST",
            p + "/run",
            token: admin,
            json: ["function": "distance", "points": [[24.9, 60.0], [24.9, 61.0]]]
        )
        let d = distance.json["result"] as? [String: Any] ?? [:]
        #expect(
            abs((d["haversine"] as? Double ?? 0) - 111_195.08) < 0.01 && abs((d["geodesic"] as? Double ?? 0) - 111_420.728) < 0.001,
            "\(distance.text)"
        )
        let square: [String: Any] = [
            "type": "Polygon", "coordinates": [[[24.9, 60.0], [24.91, 60.0], [24.91, 60.01], [24.9, 60.01], [24.9, 60.0]]],
        ]
        let area = try await server.request("POST", p + "/run", token: admin, json: ["function": "area", "geometry": square])
        #expect(abs(((area.json["result"] as? [String: Any])?["geodesic"] as? Double ?? 0) - 621_587.241) < 0.01, "\(area.text)")

        // Two one-way streets that never meet: no route between them, said as such.
        for (name, coords) in [("a", [[25.5, 60.5], [25.51, 60.5]]), ("b", [[25.6, 60.5], [25.61, 60.5]])] {
            let road =
                #"{"type":"Feature","properties":{"oneway":"yes","highway":"residential"},"geometry":{"type":"LineString","coordinates":"#
                + "\(coords)}}"
            #expect(server.cli.run("write", "islands/\(name).json", "-p", "city", "--content", road, "-m", "island").status == 0)
        }
        let stranded = try await server.request(
            "POST",
            p + "/run",
            token: admin,
            json: ["function": "route", "points": [[25.505, 60.5], [25.605, 60.5]], "roads": "islands/*.json"]
        )
        #expect(
            stranded.status == 422 && (stranded.json["error"] as? [String: Any])?["code"] as? String == "unprocessable",
            "\(stranded.text)"
        )

        // Bad input answers clearly and writes nothing.
        for (body, code) in [
            (["function": "route", "points": [[24.9, 60.1]]] as [String: Any], 400),
            (["function": "route", "points": [[24.9, 60.1], [300, 60]]], 400),
            (["function": "centroid", "geometry": ["type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]]], 400),
            (["function": "route", "points": [[24.9, 60.1], [24.95, 60.17]], "roads": "nothing/**"], 400),
            (["function": "teleport"], 400),
        ] {
            let r = try await server.request("POST", p + "/run", token: admin, json: body)
            #expect(r.status == code, "\(body): \(r.text)")
        }
        // Run needs the `run` authority: a viewer is refused.
        _ = try await server.request("PUT", "/v1/orgs/default/members/user:vera", token: admin, json: ["role": "viewer"])
        let viewer = try #require(
            try await server.request("POST", "/v1/orgs/default/keys", token: admin, json: ["subject": "user:vera", "role": "viewer"]).json[
                "token"
            ] as? String
        )
        #expect(try await server.request("POST", p + "/run", token: viewer, json: route).status == 403)
    }
}
