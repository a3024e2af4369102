import CairnTestSupport
import Foundation
import Testing

/// The Solve primitive through the surfaces a user has: HTTP (models inline and from files,
/// results written with their provenance, cancelling a running solve, refusals) and the CLI (a
/// facility-location solve on the fiber example, checked independently).
@Suite struct SolveSurfaceTests {
    static var model: [String: Any] {
        [
            "sense": "maximize", "variables": [["name": "x", "upper": 3], ["name": "y"]],
            "constraints": [
                ["name": "total", "terms": ["x": 1, "y": 1], "op": "<=", "rhs": 4],
                ["name": "mix", "terms": ["x": 1, "y": 3], "op": "<=", "rhs": 7],
            ],
            "objective": ["x": 3, "y": 2],
        ]
    }

    @Test(
        "HTTP: a JSON model inline and an MPS file from the store solve alike; the output folder holds model, result and log; bad models and missing authority are refused"
    )
    func solveOverHTTP() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        let p = "/v1/orgs/default/projects/plan"
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "plan"]).status == 201)
        let inline = try await server.request("POST", p + "/solve", token: admin, json: ["kind": "linear", "model": Self.model])
        #expect(inline.status == 200, "\(inline.text)")
        let r = inline.json["result"] as? [String: Any] ?? [:]
        #expect(
            r["status"] as? String == "optimal" && r["objective"] as? Double == 11 && (r["duals"] as? [String: Double])?["total"] == 2,
            "\(inline.text)"
        )

        let mps = """
            NAME          PLAN
            OBJSENSE
                MAX
            ROWS
             N  profit
             L  total
             L  mix
            COLUMNS
                x         profit         3   total          1
                x         mix            1
                y         profit         2   total          1
                y         mix            3
            RHS
                rhs       total          4   mix            7
            BOUNDS
             UP bnd       x              3
            ENDATA
            """
        #expect(server.cli.run("write", "models/plan.mps", "-p", "plan", "--content", mps, "-m", "the plan").status == 0)
        let fromFile = try await server.request(
            "POST",
            p + "/solve",
            token: admin,
            json: ["kind": "linear", "input": "models/plan.mps", "output": "runs", "message": "quarterly plan"]
        )
        #expect(fromFile.status == 200, "\(fromFile.text)")
        #expect((fromFile.json["result"] as? [String: Any])?["objective"] as? Double == 11)
        let folder = try #require(fromFile.json["folder"] as? String)
        #expect(folder.hasPrefix("runs/"))
        for name in ["model.mps", "result.json", "solver.log"] {
            #expect(try await server.request("GET", p + "/files/\(folder)/\(name)?raw=true", token: admin).status == 200, "\(name)")
        }
        let written = try await server.request("GET", p + "/files/\(folder)/result.json?raw=true", token: admin)
        let provenance = try JSONSerialization.jsonObject(with: written.body) as? [String: Any] ?? [:]
        #expect((provenance["inputs"] as? [[String: Any]])?.first?["path"] as? String == "models/plan.mps")
        #expect(provenance["commit"] as? String == fromFile.json["commit"] as? String)

        for (body, status) in [
            (
                [
                    "kind": "linear",
                    "model": [
                        "sense": "minimize", "variables": [["name": "x", "lower": 2, "upper": 1]], "constraints": [], "objective": [:],
                    ],
                ] as [String: Any], 400
            ),
            (["kind": "linear", "model": ["sense": "sideways"]], 400),
            (["kind": "linear", "model": "NAME\nROWS\n garbage", "format": "mps"], 400),
            (["kind": "linear"], 400),
            (["kind": "teleport"], 400),
            (["kind": "linear", "input": "models/nothing.mps"], 404),
        ] {
            let reply = try await server.request("POST", p + "/solve", token: admin, json: body)
            #expect(reply.status == status, "\(body): \(reply.text)")
        }
        _ = try await server.request("PUT", "/v1/orgs/default/members/user:vera", token: admin, json: ["role": "viewer"])
        let viewer = try #require(
            try await server.request("POST", "/v1/orgs/default/keys", token: admin, json: ["subject": "user:vera", "role": "viewer"]).json[
                "token"
            ] as? String
        )
        #expect(try await server.request("POST", p + "/solve", token: viewer, json: ["kind": "linear", "model": Self.model]).status == 403)
    }

    @Test("HTTP: a long MIP is listed while it runs and stops when cancelled")
    func cancelARunningSolve() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        let p = "/v1/orgs/default/projects/hard"
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "hard"]).status == 201)
        // Equality knapsacks over binaries (market split): branch-and-bound does not settle them quickly.
        var rng = SystemRandomNumberGenerator()
        let n = 50
        let rows = (0..<5).map { i -> [String: Any] in
            let terms = Dictionary(uniqueKeysWithValues: (0..<n).map { ("b\($0)", Double(UInt64.random(in: 1...99, using: &rng))) })
            return ["name": "k\(i)", "terms": terms, "op": "=", "rhs": (terms.values.reduce(0, +) / 2).rounded()]
        }
        let hard: [String: Any] = [
            "sense": "minimize", "variables": (0..<n).map { ["name": "b\($0)", "type": "binary"] }, "constraints": rows, "objective": [:],
        ]
        let started = Date()
        let solve = Task {
            try await server.request(
                "POST",
                p + "/solve",
                token: admin,
                json: ["kind": "linear", "model": hard, "id": "long", "timeLimit": 300]
            )
        }
        var listed = false
        for _ in 0..<400 where !listed {
            try await Task.sleep(for: .milliseconds(50))
            let running = try await server.request("GET", p + "/solves", token: admin).json["solves"] as? [[String: Any]] ?? []
            listed = running.contains { $0["id"] as? String == "long" }
        }
        #expect(listed)
        #expect(try await server.request("POST", p + "/solves/long/cancel", token: admin).status == 200)
        let reply = try await solve.value
        #expect(reply.status == 200, "\(reply.text)")
        let status = (reply.json["result"] as? [String: Any])?["status"] as? String
        // Market-split instances this size take branch-and-bound far longer than the wait above.
        #expect(status == "cancelled", "\(reply.text.prefix(300))")
        let solveTime = (reply.json["result"] as? [String: Any])?["solveTime"] as? Double ?? .infinity
        // (The time limit is far beyond any wait here, so a loaded machine cannot blur the two.)
        #expect(
            solveTime > 0 && solveTime < 280 && Date().timeIntervalSince(started) < 290,
            "the cancel, not the 300 s limit, ended it (\(solveTime) s)"
        )
        #expect(solveTime <= Date().timeIntervalSince(started), "the solve cannot have taken longer than the request (\(solveTime) s)")
        #expect(try await server.request("POST", p + "/solves/long/cancel", token: admin).status == 404)
    }

    @Test(
        "CLI: facility location on the fiber example: every drop served by one open cabinet within capacity, the objective its distances, optimal as HiGHS finds too"
    )
    func facilityLocationOnTheFiberExample() throws {
        let cli = try ExampleOntologyTests().load("fiber")
        let solved = cli.run(
            "solve",
            "facility_location",
            "--depots",
            "fiber/cabinets/*.json",
            "--stops",
            "fiber/drops/*.json",
            "--capacity",
            "5",
            "--output",
            "runs",
            "-m",
            "which cabinet serves which drop",
            "--json"
        )
        #expect(solved.status == 0, "\(solved.stdout) \(solved.stderr)")
        let result = solved.object["result"] as? [String: Any] ?? [:]
        #expect(result["status"] as? String == "optimal", "\(solved.stdout)")
        let assignments = solved.object["assignments"] as? [String: String] ?? [:]
        #expect(assignments.count == 12, "every drop is served once")
        var load: [String: Int] = [:]
        for cabinet in assignments.values { load[cabinet, default: 0] += 1 }
        #expect(load.values.allSatisfy { $0 <= 5 } && load.count >= 3, "\(load)")
        let values = result["values"] as? [String: Double] ?? [:]
        #expect(load.keys.allSatisfy { values["open[\($0)]"] == 1 })
        // The objective is the sum of each drop's geodesic distance to its cabinet, measured apart.
        var total = 0.0
        for (drop, cabinet) in assignments {
            let d = cli.run("run", "distance", "--input", drop, "--input", cabinet, "--json")
            total += (d.object["result"] as? [String: Any])?["geodesic"] as? Double ?? .nan
        }
        #expect(abs(total - (result["objective"] as? Double ?? 0)) < 1e-6 * total, "\(total) vs \(result["objective"] ?? "")")
        // The model written beside the result solves to the same optimum in HiGHS.
        let folder = try #require(solved.object["folder"] as? String)
        let model = cli.run("read", "\(folder)/model.json", "--limit", "100000")
        let modelJSON = try JSONSerialization.jsonObject(with: Data(model.stdout.utf8))
        let reference = try ReferenceSolver.highs(modelJSON)
        #expect(
            reference.status == "optimal" && abs(reference.objective - (result["objective"] as? Double ?? 0)) < 1e-6 * reference.objective
        )
    }

    @Test("CLI: facility location never opens a facility twice: a near cabinet full at its capacity sends the rest to a far one")
    func facilityLocationOpensEachFacilityOnce() throws {
        let cli = try CLIHarness()
        func point(_ path: String, _ lon: Double, _ lat: Double, _ properties: String) {
            let feature = #"{"type":"Feature","geometry":{"type":"Point","coordinates":[\#(lon),\#(lat)]},"properties":{\#(properties)}}"#
            #expect(cli.run("write", path, "--content", feature, "-m", "site").status == 0)
        }
        point("cabinets/near.json", 24.9400, 60.1700, #""capacity":2"#)
        point("cabinets/far.json", 25.2000, 60.3000, #""capacity":10"#)
        for i in 0..<3 { point("drops/\(i).json", 24.9401 + Double(i) * 0.0001, 60.1701, #""demand":1"#) }
        let solved = cli.run("solve", "facility_location", "--depots", "cabinets/*.json", "--stops", "drops/*.json", "--json")
        #expect(solved.status == 0, "\(solved.stdout) \(solved.stderr)")
        let result = solved.object["result"] as? [String: Any] ?? [:]
        #expect(result["status"] as? String == "optimal", "\(solved.stdout)")
        // A facility is opened once or not at all (a binary once took 2: twice the capacity).
        let values = result["values"] as? [String: Double] ?? [:]
        #expect(values.filter { $0.key.hasPrefix("open[") }.values.allSatisfy { $0 == 0 || $0 == 1 }, "\(values)")
        let assignments = solved.object["assignments"] as? [String: String] ?? [:]
        #expect(assignments.values.filter { $0 == "cabinets/near.json" }.count == 2, "\(assignments)")
        #expect(assignments.values.filter { $0 == "cabinets/far.json" }.count == 1, "\(assignments)")
    }
}

/// HiGHS through the solve tests' reference script (PyPI highspy in the test virtualenv).
enum ReferenceSolver {
    static func highs(_ model: Any) throws -> (status: String, objective: Double) {
        let answer = try PythonReference.runBlocking(
            "Tests/CairnSolveTests/Support/python/lp_check.py",
            ["models": [model], "dir": NSTemporaryDirectory()]
        )
        let first = (answer["results"] as? [[String: Any]])?.first ?? [:]
        return (first["status"] as? String ?? "?", first["objective"] as? Double ?? .nan)
    }
}
