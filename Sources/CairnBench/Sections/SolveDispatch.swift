import CairnCompute
import CairnCore
import CairnGovernance
import CairnSolve
import CairnStore
import Foundation

extension Bench {
    /// Solve: what the Gateway adds to a GLPK solve (reading the model from the store,
    /// authorization, audit), and vehicle routing beside OR-Tools with the same time limit.
    func solveDispatch() async throws {
        report.section(
            "Solve: dispatch overhead, and vehicle routing beside OR-Tools",
            "Dispatch: the same model solved by `GLPK.solve` called directly in process, and by `Gateway.solve` reading it from a file "
                + "of the store (authorization, parsing, audit record), 30 runs each after 5 warm-up runs, medians. An LP (packing, 60 "
                + "variables × 40 constraints) and a MIP (30 integer variables × 20 constraints). Routing: generated Solomon-style "
                + "instances (`RoutingProblem.generated`, seed = size), Cairn's ruin-and-recreate search and OR-Tools 9 (PyPI `ortools`, "
                + "PATH_CHEAPEST_ARC then GUIDED_LOCAL_SEARCH, in .bench/venv) each given the same time limit; total distance, lower is "
                + "better."
        )
        let (_, repo) = try freshStore("solve")
        let (org, _) = try await Tenancy.ensure("bench", repository: repo)
        let gateway = Gateway(repository: repo, limits: GatewayLimits(requestsPerSecond: 0))
        let caller = try await gateway.localCaller(organization: org, name: "bench", reason: "bench")
        _ = try await gateway.createProject(caller, name: "plans")
        var rng = SplitMix64(state: 17)
        func r(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(rng.next() % 10_000) / 10_000 }
        for (label, n, m, integer) in [("LP 60×40", 60, 40, false), ("MIP 30×20", 30, 20, true)] {
            let vars = (0..<n).map {
                LinearModel.Variable(name: "x\($0)", upper: integer ? 5 : nil, type: integer ? .integer : .continuous)
            }
            let rows = (0..<m).map { i in
                LinearModel.Constraint(
                    name: "c\(i)",
                    terms: Dictionary(uniqueKeysWithValues: (0..<n).filter { _ in rng.next() % 3 != 0 }.map { ("x\($0)", r(1, 9)) }),
                    op: .lessOrEqual,
                    rhs: r(50, 150)
                )
            }
            let model = LinearModel(
                sense: .maximize,
                variables: vars,
                constraints: rows,
                objective: Dictionary(uniqueKeysWithValues: (0..<n).map { ("x\($0)", r(1, 10)) })
            )
            let path = "models/\(integer ? "mip" : "lp").json"
            _ = try await gateway.write(caller, project: "plans", path: path, content: Array(try JSONEncoder().encode(model)))
            var request = SolveRequest(kind: "linear")
            request.input = path
            for _ in 0..<5 {
                _ = try await GLPK.solve(model, control: SolveControl())
                _ = try await gateway.compute.solve(caller, project: "plans", request)
            }
            var direct: [Double] = []
            var dispatched: [Double] = []
            var objectives: Set<Double> = []
            for _ in 0..<30 {
                direct.append(
                    try await Measure.seconds {
                        objectives.insert(try await GLPK.solve(model, control: SolveControl()).result.objective ?? .nan)
                    }
                )
                dispatched.append(
                    try await Measure.seconds {
                        objectives.insert(try await gateway.compute.solve(caller, project: "plans", request).result.objective ?? .nan)
                    }
                )
            }
            precondition(objectives.count == 1, "the two paths disagree on \(label)")
            let d = Measure.medianOf(direct)
            let g = Measure.medianOf(dispatched)
            report.row(
                "\(label): solve through the Gateway (model read from the store)",
                Measure.ms(g),
                "GLPK called directly",
                Measure.ms(d),
                String(format: "+%.3f ms dispatch", (g - d) * 1000)
            )
        }

        let python = root.appendingPathComponent("../venv/bin/python3").standardized.path
        let peer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Tests/CairnSolveTests/Support/python/vrp_check.py").path
        let seconds = quick ? 2 : 5
        for customers in [50, 100, 200] {
            let problem = RoutingProblem.generated(customers: customers, seed: UInt64(customers))
            let (ours, result) = try RoutingSolver.solve(problem, seed: 1, control: SolveControl(timeLimit: Double(seconds)))
            precondition(ours.unserved.isEmpty, "unserved customers")
            guard FileManager.default.fileExists(atPath: python) else {
                report.row(
                    "routing, \(customers) customers, \(seconds) s",
                    String(format: "%.0f", ours.cost),
                    "OR-Tools",
                    "not installed",
                    ""
                )
                continue
            }
            let input = try JSONSerialization.data(withJSONObject: ["instances": [problem.referenceQuery], "seconds": seconds])
            let out = try Shell.run(python, [peer], stdin: input).out
            let theirs = ((try JSONSerialization.jsonObject(with: out) as? [String: Any])?["costs"] as? [Double])?.first ?? .nan
            report.row(
                "routing, \(customers) customers, \(seconds) s each: total distance (\(ours.iterations) iterations, "
                    + "\(String(format: "%.1f", result.solveTime)) s)",
                String(format: "%.0f", ours.cost),
                "OR-Tools guided local search",
                String(format: "%.0f", theirs),
                String(format: "%+.1f%%", (ours.cost / theirs - 1) * 100)
            )
        }
    }
}
