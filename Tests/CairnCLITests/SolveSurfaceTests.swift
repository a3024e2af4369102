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
        let hard = Self.marketSplit()
        let started = Date()
        let solve = Task {
            try await server.request(
                "POST",
                p + "/solve",
                token: admin,
                json: ["kind": "linear", "model": hard, "id": "long", "timeLimit": 3600]
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
        // (The time limit, an hour, is far beyond any wait here, even on a loaded machine running
        // every suite at once, so the two cannot be confused.)
        #expect(
            solveTime > 0 && solveTime < 3000 && Date().timeIntervalSince(started) < 3000,
            "the cancel, not the hour's limit, ended it (\(solveTime) s)"
        )
        #expect(solveTime <= Date().timeIntervalSince(started), "the solve cannot have taken longer than the request (\(solveTime) s)")
        #expect(try await server.request("POST", p + "/solves/long/cancel", token: admin).status == 404)
    }

    /// A market-split MIP (equality knapsacks over binaries): branch-and-bound does not settle
    /// it in minutes, so a solve of it runs until cancelled.
    static func marketSplit(_ n: Int = 50) -> [String: Any] {
        var rng = SystemRandomNumberGenerator()
        let rows = (0..<5).map { i -> [String: Any] in
            let terms = Dictionary(uniqueKeysWithValues: (0..<n).map { ("b\($0)", Double(UInt64.random(in: 1...99, using: &rng))) })
            return ["name": "k\(i)", "terms": terms, "op": "=", "rhs": (terms.values.reduce(0, +) / 2).rounded()]
        }
        return [
            "sense": "minimize", "variables": (0..<n).map { ["name": "b\($0)", "type": "binary"] }, "constraints": rows, "objective": [:],
        ]
    }

    @Test("HTTP: heavy jobs are bounded per credential and per server (429 with Retry-After), and a slot frees when its solve ends")
    func heavyJobsAreBounded() async throws {
        let server = try await ServerHarness(environment: ["CAIRN_HEAVY_JOBS_PER_CREDENTIAL": "1", "CAIRN_HEAVY_JOBS_PER_SERVER": "2"])
        let admin = try server.adminToken()
        let p = "/v1/orgs/default/projects/busy"
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "busy"]).status == 201)
        var tokens: [String] = []
        for name in ["ada", "bo"] {
            _ = try await server.request("PUT", "/v1/orgs/default/members/user:\(name)", token: admin, json: ["role": "designer"])
            let key = try await server.request(
                "POST",
                "/v1/orgs/default/keys",
                token: admin,
                json: ["subject": "user:\(name)", "role": "designer"]
            )
            tokens.append(try #require(key.json["token"] as? String, "\(key.text)"))
        }
        func startLong(_ id: String, _ token: String) -> Task<ServerHarness.Reply, any Error> {
            Task {
                try await server.request(
                    "POST",
                    p + "/solve",
                    token: token,
                    json: ["kind": "linear", "model": Self.marketSplit(), "id": id, "timeLimit": 300, "solver": "glpk"]
                )
            }
        }
        func waitListed(_ id: String) async throws -> Bool {
            for _ in 0..<400 {
                let running = try await server.request("GET", p + "/solves", token: admin).json["solves"] as? [[String: Any]] ?? []
                if running.contains(where: { $0["id"] as? String == id }) { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return false
        }
        func small(_ token: String) async throws -> ServerHarness.Reply {
            try await server.request("POST", p + "/solve", token: token, json: ["kind": "linear", "model": Self.model])
        }
        func isLimited(_ reply: ServerHarness.Reply) -> Bool {
            let retry = reply.headers.first { $0.key.lowercased() == "retry-after" }?.value
            return reply.status == 429 && (reply.json["error"] as? [String: Any])?["code"] as? String == "rate_limited" && retry != nil
        }

        let first = startLong("first", admin)
        #expect(try await waitListed("first"))
        let again = try await small(admin)
        #expect(isLimited(again), "the same credential's second heavy job: \(again.text)")
        #expect(try await small(tokens[0]).status == 200, "another credential still solves")

        let second = startLong("second", tokens[0])
        #expect(try await waitListed("second"))
        let full = try await small(tokens[1])
        #expect(isLimited(full), "a third credential while the server runs its bound: \(full.text)")

        for id in ["first", "second"] {
            #expect(try await server.request("POST", p + "/solves/\(id)/cancel", token: admin).status == 200)
        }
        #expect(try await first.value.status == 200)
        #expect(try await second.value.status == 200)
        let after = try await small(admin)
        #expect(after.status == 200, "slots are given back when solves end: \(after.text)")
    }

    /// A small capacitated facility location as a JSON model: `f` facilities, `c` customers.
    static func facilityModel(_ f: Int, _ c: Int, seed: UInt64) -> [String: Any] {
        var state = seed
        func uniform(_ n: UInt64) -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double((state >> 33) % n)
        }
        var variables: [[String: Any]] = []
        var constraints: [[String: Any]] = []
        var objective: [String: Double] = [:]
        for i in 0..<f {
            variables.append(["name": "open\(i)", "type": "binary"])
            objective["open\(i)"] = 200 + uniform(400)
        }
        let demands = (0..<c).map { _ in 1 + uniform(9) }
        var capacity: [Int: [String: Double]] = [:]
        for j in 0..<c {
            var served: [String: Double] = [:]
            for i in 0..<f {
                let x = "x\(i)_\(j)"
                variables.append(["name": x, "type": "binary"])
                objective[x] = demands[j] * (1 + uniform(40))
                served[x] = 1
                constraints.append(["name": "only\(i)_\(j)", "terms": [x: 1, "open\(i)": -1], "op": "<=", "rhs": 0])
                capacity[i, default: ["open\(i)": -(demands.reduce(0, +) * 2 / Double(f)).rounded()]][x] = demands[j]
            }
            constraints.append(["name": "served\(j)", "terms": served, "op": "=", "rhs": 1])
        }
        for i in 0..<f { constraints.append(["name": "cap\(i)", "terms": capacity[i] ?? [:], "op": "<=", "rhs": 0]) }
        return ["sense": "minimize", "variables": variables, "constraints": constraints, "objective": objective]
    }

    @Test(
        "HTTP: solver auto proves a MIP with CBC and an LP with GLPK, solver chooses, a bad choice is refused; CBC's progress is in the result and on the project's feed"
    )
    func solverChoiceAndProgress() async throws {
        // GLPK takes its time on the MIP when every suite runs on 2 cores: what is asserted is the answer.
        let server = try await ServerHarness(environment: ["CAIRN_REQUEST_TIMEOUT": "300"])
        let admin = try server.adminToken()
        let p = "/v1/orgs/default/projects/plan"
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "plan"]).status == 201)
        let mip = Self.facilityModel(5, 30, seed: 3)
        var byCBC: [String: Any] = [:]
        let feed = try await ServerFeedAndLimitsTests.feed(
            server,
            org: "default",
            project: "plan",
            token: admin,
            until: { $0.contains("solve.progress") }
        ) {
            let r = try await server.request("POST", p + "/solve", token: admin, json: ["kind": "linear", "model": mip, "id": "plan-1"])
            #expect(r.status == 200, "\(r.text.prefix(300))")
            byCBC = r.json["result"] as? [String: Any] ?? [:]
        }
        #expect((byCBC["solver"] as? String)?.hasPrefix("CBC") == true && byCBC["status"] as? String == "optimal", "\(byCBC)")
        let steps = byCBC["progress"] as? [[String: Any]] ?? []
        #expect(!steps.isEmpty && steps.last?["incumbent"] as? Double == byCBC["objective"] as? Double, "\(steps)")
        let announced = ServerFeedAndLimitsTests.events(feed, named: "change").filter { $0["action"] as? String == "solve.progress" }
        #expect(
            announced.first.map { $0["solve"] as? String == "plan-1" && ($0["progress"] as? [String: Any])?["seconds"] != nil } == true,
            "\(feed.suffix(600))"
        )
        // GLPK on request: the same optimum; the model written the same way goes to HiGHS too.
        let glpk = try await server.request("POST", p + "/solve", token: admin, json: ["kind": "linear", "model": mip, "solver": "glpk"])
        let byGLPK = glpk.json["result"] as? [String: Any] ?? [:]
        #expect((byGLPK["solver"] as? String)?.hasPrefix("GLPK") == true, "\(glpk.text.prefix(300))")
        let reference = try ReferenceSolver.highs(mip)
        for result in [byCBC, byGLPK] {
            #expect(
                abs((result["objective"] as? Double ?? 0) - reference.objective) < 1e-6 * reference.objective,
                "\(result["solver"] ?? "")"
            )
        }
        // A linear program goes to GLPK by the rule (duals), unless CBC is asked.
        let lp: [String: Any] = [
            "sense": "maximize", "variables": [["name": "x"], ["name": "y"]],
            "constraints": [["name": "c", "terms": ["x": 1, "y": 2], "op": "<=", "rhs": 4]], "objective": ["x": 1, "y": 1],
        ]
        let byRule = try await server.request("POST", p + "/solve", token: admin, json: ["kind": "linear", "model": lp])
        #expect(((byRule.json["result"] as? [String: Any])?["solver"] as? String)?.hasPrefix("GLPK") == true)
        #expect((byRule.json["result"] as? [String: Any])?["duals"] != nil)
        let asked = try await server.request("POST", p + "/solve", token: admin, json: ["kind": "linear", "model": lp, "solver": "cbc"])
        #expect(((asked.json["result"] as? [String: Any])?["solver"] as? String)?.hasPrefix("CBC") == true, "\(asked.text.prefix(300))")
        #expect((asked.json["result"] as? [String: Any])?["objective"] as? Double == 4)
        for body in [
            ["kind": "linear", "model": lp, "solver": "cplex"] as [String: Any],
            ["kind": "linear", "model": "maximize\n obj: x\nsubject to\n c: x <= 1\nend\n", "format": "lp", "solver": "cbc"],
        ] {
            let r = try await server.request("POST", p + "/solve", token: admin, json: body)
            #expect(r.status == 400, "\(r.text.prefix(300))")
        }
    }

    @Test("CLI: a CBC solve runs in a worker that dies with the process that started it, never outliving it")
    func workerDiesWithItsParent() async throws {
        let cli = try CLIHarness()
        // Equality knapsacks over binaries (market split): far longer than this test waits.
        var state: UInt64 = 9
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(1 + (state >> 33) % 99)
        }
        let rows = (0..<5).map { i -> [String: Any] in
            let terms = Dictionary(uniqueKeysWithValues: (0..<50).map { ("b\($0)", next()) })
            return ["name": "k\(i)", "terms": terms, "op": "=", "rhs": (terms.values.reduce(0, +) / 2).rounded()]
        }
        let hard: [String: Any] = [
            "sense": "minimize", "variables": (0..<50).map { ["name": "b\($0)", "type": "binary"] }, "constraints": rows, "objective": [:],
        ]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: hard), as: UTF8.self)
        #expect(cli.run("write", "models/hard.json", "--content", text, "-m", "a hard model").status == 0)
        let solving = Process()
        solving.executableURL = CLIHarness.binDirectory.appendingPathComponent("cairn")
        solving.arguments = ["solve", "linear", "--input", "models/hard.json", "--solver", "cbc", "--time-limit", "300"]
        var env = ProcessInfo.processInfo.environment
        env["CAIRN_DATA"] = cli.data.path
        if let url = cli.databaseURL { env["CAIRN_DATABASE_URL"] = url }
        env["CAIRN_PROJECT"] = cli.project
        solving.environment = env
        solving.standardOutput = FileHandle.nullDevice
        solving.standardError = FileHandle.nullDevice
        try solving.run()
        /// The workers this solve started (their environment names it as their parent).
        func workers() -> [Int32] {
            let all = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return all.compactMap(Int32.init).filter { pid in
                guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
                return environ.split(separator: 0).contains { Array($0) == Array("CAIRN_SOLVER_PARENT=\(solving.processIdentifier)".utf8) }
            }
        }
        var found: [Int32] = []
        for _ in 0..<300 where found.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            found = workers()
        }
        #expect(!found.isEmpty, "the solve started a worker")
        kill(solving.processIdentifier, SIGKILL)
        solving.waitUntilExit()
        var alive = found
        for _ in 0..<100 where !alive.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            alive = found.filter {
                kill($0, 0) == 0 && !((try? String(contentsOfFile: "/proc/\($0)/stat", encoding: .utf8))?.contains(") Z ") ?? true)
            }
        }
        #expect(alive.isEmpty, "workers outlived their parent: \(alive)")
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
