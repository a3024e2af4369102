import CairnCompute
import Foundation
import Testing

@testable import CairnSolve

/// LP and MIP through GLPK against HiGHS (PyPI highspy, in the test virtualenv) on the same
/// instances: status and objective agree; the MPS and LP texts HiGHS writes of each model read
/// back into GLPK and solve to the same objective.
@Suite struct LinearSolveTests {
    /// Random instances, small and medium, of every kind: packing (≤, maximize), covering (≥,
    /// minimize), with equalities through a known feasible point, mixed-integer, infeasible,
    /// unbounded.
    static func instances() -> [LinearModel] {
        var rng = SplitMix64(state: 99)
        func r(_ lo: Double, _ hi: Double) -> Double { (lo + (hi - lo) * Double(rng.next() % 1_000_000) / 1_000_000 * 100).rounded() / 100 }
        var out: [LinearModel] = []
        for (n, m) in [(3, 2), (5, 4), (8, 6), (12, 10), (20, 15), (30, 25), (40, 30)] {
            for kind in 0..<4 {
                let integer = kind >= 2
                let vars = (0..<n).map { j in
                    LinearModel.Variable(
                        name: "x\(j)",
                        lower: 0,
                        upper: kind == 3 ? r(2, 10).rounded() : nil,
                        type: integer && j % 2 == 0 ? .integer : .continuous
                    )
                }
                let x0 = (0..<n).map { _ in r(0, 2) }
                var rows: [LinearModel.Constraint] = []
                for i in 0..<m {
                    var terms: [String: Double] = [:]
                    for j in 0..<n where rng.next() % 3 != 0 { terms["x\(j)"] = r(0.5, 9) }
                    if terms.isEmpty { terms["x\(i % n)"] = 1 }
                    let activity = terms.reduce(0) { $0 + $1.value * x0[Int($1.key.dropFirst())!] }
                    switch (kind % 2, i % 5) {
                    case (_, 4) where !integer:
                        rows.append(.init(name: "e\(i)", terms: terms, op: .equal, rhs: (activity * 100).rounded() / 100))
                    case (0, _): rows.append(.init(name: "c\(i)", terms: terms, op: .lessOrEqual, rhs: (activity + r(1, 20)).rounded()))
                    default:
                        rows.append(.init(name: "c\(i)", terms: terms, op: .greaterOrEqual, rhs: max(1, (activity - r(0, 5)).rounded())))
                    }
                }
                // Packing maximizes; covering minimizes (both bounded).
                let objective = Dictionary(uniqueKeysWithValues: (0..<n).map { ("x\($0)", r(1, 10)) })
                out.append(
                    LinearModel(
                        sense: kind % 2 == 0 ? .maximize : .minimize,
                        variables: vars,
                        constraints: rows,
                        objective: objective,
                        objectiveConstant: kind == 1 ? 7.5 : nil
                    )
                )
            }
        }
        // Infeasible: x + y ≤ 1 and x + y ≥ 2; as an LP and as a MIP.
        for type in [LinearModel.VariableType.continuous, .integer] {
            out.append(
                LinearModel(
                    sense: .minimize,
                    variables: [.init(name: "x", type: type), .init(name: "y", type: type)],
                    constraints: [
                        .init(name: "a", terms: ["x": 1, "y": 1], op: .lessOrEqual, rhs: 1),
                        .init(name: "b", terms: ["x": 1, "y": 1], op: .greaterOrEqual, rhs: 2),
                    ],
                    objective: ["x": 1, "y": 1]
                )
            )
        }
        // Unbounded: maximize x with x − y ≤ 1, x, y ≥ 0; and with a free variable.
        out.append(
            LinearModel(
                sense: .maximize,
                variables: [.init(name: "x"), .init(name: "y")],
                constraints: [.init(name: "a", terms: ["x": 1, "y": -1], op: .lessOrEqual, rhs: 1)],
                objective: ["x": 1]
            )
        )
        out.append(
            LinearModel(
                sense: .minimize,
                variables: [.init(name: "z", lower: nil), .init(name: "w")],
                constraints: [.init(name: "a", terms: ["z": 1, "w": 1], op: .lessOrEqual, rhs: 4)],
                objective: ["z": 1, "w": 2]
            )
        )
        return out
    }

    static func reference(_ models: [LinearModel]) throws -> [[String: Any]] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-lp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let query = try JSONSerialization.jsonObject(with: JSONEncoder().encode(["models": models]))
        var q = query as? [String: Any] ?? [:]
        q["dir"] = dir.path
        return try Python.run("lp_check.py", q)["results"] as? [[String: Any]] ?? []
    }

    @Test func statusAndObjectiveEqualHiGHS() async throws {
        let models = Self.instances()
        let theirs = try Self.reference(models)
        #expect(theirs.count == models.count)
        var kinds: [SolveResult.Status: Int] = [:]
        for (k, (model, ref)) in zip(models, theirs).enumerated() {
            let (ours, _) = try await GLPK.solve(model, control: SolveControl(timeLimit: 30))
            kinds[ours.status, default: 0] += 1
            #expect(ours.status.rawValue == ref["status"] as? String, "model \(k): \(ours.status) vs \(ref["status"] ?? "?")")
            if let objective = ref["objective"] as? Double {
                #expect(
                    ours.objective.map { abs($0 - objective) <= 1e-6 * max(1, abs(objective)) } == true,
                    "model \(k): \(ours.objective ?? .nan) vs \(objective)"
                )
                // The values satisfy every constraint and bound, and give the objective.
                #expect(Self.check(model, ours.values) == nil, "model \(k): \(Self.check(model, ours.values) ?? "")")
                // The same model as HiGHS writes it, read back as MPS and as LP text.
                // (GLPK's LP reader takes no constant in the objective: those models go as MPS only.)
                for format in model.objectiveConstant == nil ? [GLPK.TextFormat.mps, .lp] : [.mps] {
                    let text = ref[format.rawValue] as? String ?? ""
                    let (again, log) = try await GLPK.solve(text: text, format: format, control: SolveControl(timeLimit: 30))
                    #expect(
                        again.objective.map { abs($0 - objective) <= 1e-6 * max(1, abs(objective)) } == true,
                        "model \(k) as \(format): \(again.status) \(again.objective ?? .nan) vs \(objective)\n\(log.suffix(400))"
                    )
                }
            }
        }
        #expect(kinds[.optimal, default: 0] >= 20 && kinds[.infeasible] == 2 && kinds[.unbounded] == 2, "\(kinds)")
    }

    /// An independent check of a solution: every bound and constraint within 1e-6, integers integral.
    static func check(_ model: LinearModel, _ values: [String: Double]) -> String? {
        for v in model.variables {
            guard let x = values[v.name] else { return "\(v.name) has no value" }
            if let l = v.lower, x < l - 1e-6 { return "\(v.name) = \(x) below \(l)" }
            if let u = v.upper, x > u + 1e-6 { return "\(v.name) = \(x) above \(u)" }
            if v.type != .continuous, abs(x - x.rounded()) > 1e-6 { return "\(v.name) = \(x) is not integral" }
        }
        for c in model.constraints {
            let a = c.terms.reduce(0) { $0 + $1.value * (values[$1.key] ?? 0) }
            let ok =
                switch c.op {
                case .lessOrEqual: a <= c.rhs + 1e-6
                case .greaterOrEqual: a >= c.rhs - 1e-6
                case .equal: abs(a - c.rhs) <= 1e-6
                }
            if !ok { return "\(c.name): \(a) \(c.op.rawValue) \(c.rhs) fails" }
        }
        return nil
    }

    @Test func explainsTheSolutionAndRefusesMalformedModels() async throws {
        // max 3x + 2y, x + y ≤ 4, x + 3y ≤ 7, x ≤ 3: optimum x = 3, y = 1, objective 11; the first
        // constraint binds with dual 2, and the bound x ≤ 3 with reduced cost 1.
        let model = LinearModel(
            sense: .maximize,
            variables: [.init(name: "x", upper: 3), .init(name: "y")],
            constraints: [
                .init(name: "total", terms: ["x": 1, "y": 1], op: .lessOrEqual, rhs: 4),
                .init(name: "mix", terms: ["x": 1, "y": 3], op: .lessOrEqual, rhs: 7),
            ],
            objective: ["x": 3, "y": 2]
        )
        let (r, log) = try await GLPK.solve(model, control: SolveControl())
        #expect(r.status == .optimal && r.objective == 11 && r.values == ["x": 3, "y": 1] && r.gap == 0)
        #expect(r.binding.map(\.name) == ["total"] && r.duals?["total"] == 2 && r.reducedCosts?["x"] == 1)
        #expect(r.drivers.map(\.name) == ["x", "y"] && r.drivers.first?.contribution == 9)
        #expect(log.contains("obj =   1.100000000e+01"), "the solver's log: \(log)")
        for (bad, words) in [
            (LinearModel(sense: .minimize, variables: [], constraints: [], objective: [:]), "no variables"),
            (
                LinearModel(sense: .minimize, variables: [.init(name: "x"), .init(name: "x")], constraints: [], objective: [:]),
                "used twice"
            ),
            (
                LinearModel(sense: .minimize, variables: [.init(name: "x", lower: 2, upper: 1)], constraints: [], objective: [:]),
                "above its upper"
            ),
            (
                LinearModel(
                    sense: .minimize,
                    variables: [.init(name: "x")],
                    constraints: [.init(name: "c", terms: ["q": 1], op: .equal, rhs: 1)],
                    objective: [:]
                ), "unknown variable 'q'"
            ),
            (
                LinearModel(
                    sense: .minimize,
                    variables: [.init(name: "x")],
                    constraints: [.init(name: "c", terms: ["x": .nan], op: .equal, rhs: 1)],
                    objective: [:]
                ), "not a finite"
            ),
        ] {
            await #expect { _ = try await GLPK.solve(bad, control: SolveControl()) } throws: {
                ($0 as? SolveError)?.message.contains(words) == true
            }
        }
        await #expect { _ = try await GLPK.solve(text: "this is not an LP", format: .lp, control: SolveControl()) } throws: {
            ($0 as? SolveError)?.kind == .invalidModel
        }
    }

    /// Solves run side by side, each on its own thread with its own GLPK environment: the
    /// answers and the captured logs never mix.
    @Test func concurrentSolvesKeepTheirOwnAnswersAndLogs() async throws {
        let models = Self.instances().prefix(16)
        let alone = try await models.asyncMap { try await GLPK.solve($0, control: SolveControl()) }
        let together = try await withThrowingTaskGroup(of: (Int, SolveResult, String).self) { group in
            for (k, model) in models.enumerated() {
                group.addTask {
                    let (r, log) = try await GLPK.solve(model, control: SolveControl())
                    return (k, r, log)
                }
            }
            var out: [(Int, SolveResult, String)] = []
            for try await x in group { out.append(x) }
            return out.sorted { $0.0 < $1.0 }
        }
        for (k, r, log) in together {
            #expect(r.objective == alone[k].result.objective && r.values == alone[k].result.values, "model \(k)")
            #expect(log == alone[k].log, "model \(k)'s log is its own")
        }
    }

    /// A market-split style instance: equality knapsacks that branch-and-bound cannot settle quickly.
    static func marketSplit() -> LinearModel {
        var rng = SplitMix64(state: 5)
        let n = 40
        let vars = (0..<n).map { LinearModel.Variable(name: "b\($0)", type: .binary) }
        let rows = (0..<4).map { i -> LinearModel.Constraint in
            let terms = Dictionary(uniqueKeysWithValues: (0..<n).map { ("b\($0)", Double(rng.next() % 100)) })
            return .init(name: "k\(i)", terms: terms, op: .equal, rhs: (terms.values.reduce(0, +) / 2).rounded())
        }
        return LinearModel(sense: .minimize, variables: vars, constraints: rows, objective: [:])
    }

    @Test func aHardMIPStopsAtItsTimeLimitOrWhenCancelled() async throws {
        let model = Self.marketSplit()
        // Times are the solver's own (measured on its thread): a loaded test run may be slow to
        // resume the awaiting test, which says nothing about the solver.
        let wall = Date()
        let (timed, _) = try await GLPK.solve(model, control: SolveControl(timeLimit: 1))
        let waited = Date().timeIntervalSince(wall)
        // The limit was reached, so the solve took about a second: more than 0, within the wall time.
        #expect(
            timed.solveTime > 0.5 && timed.solveTime < 3 && timed.solveTime <= waited,
            "\(timed.solveTime) s for a 1 s limit (waited \(waited) s)"
        )
        #expect([.timeLimit, .feasible].contains(timed.status), "\(timed.status): the instance is meant to outlast the limit")
        let control = SolveControl(timeLimit: 60)
        let task = Task { try await GLPK.solve(model, control: control) }
        try await Task.sleep(for: .milliseconds(300))
        control.cancel()
        let (cancelled, _) = try await task.value
        #expect([.cancelled, .feasible].contains(cancelled.status), "\(cancelled.status)")
        #expect(cancelled.solveTime > 0 && cancelled.solveTime < 59, "the cancel, not the time limit, ended it (\(cancelled.solveTime) s)")
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for x in self { out.append(try await transform(x)) }
        return out
    }
}
