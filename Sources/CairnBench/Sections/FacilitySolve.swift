import CairnSolve
import Foundation

extension Bench {
    /// Issue 23's facility model: time to a proven optimum, CBC beside HiGHS (and GLPK) on the
    /// same seeded instance in the same run.
    func facilitySolve() async throws {
        let runs = quick ? 1 : 3
        report.section(
            "Facility location, 20 facilities × 200 customers: time to a proven optimum (issue 23)",
            "The seeded capacitated facility location `AssignmentTemplates.generatedFacilityLocation()` (single sourcing, the "
                + "`facility_location` formulation: 4,020 binaries, 4,220 rows, integer costs). CBC: `CBC.solve` (the worker process "
                + "`cairn solve-worker`, release build, its start included), median of \(runs). HiGHS 1.x from PyPI (.bench/venv), "
                + "relative gap 0, built through its API (model building not timed), median of \(runs). GLPK: `GLPK.solve` with a "
                + "60 s limit, once. Objectives compared."
        )
        let model = AssignmentTemplates.generatedFacilityLocation()
        let worker = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cairn")
        var cbc: [Double] = []
        var ours: SolveResult?
        for _ in 0..<runs {
            let started = Date()
            ours = try await CBC.solve(model, control: SolveControl(timeLimit: 600), worker: worker).result
            cbc.append(Date().timeIntervalSince(started))
        }
        let (glpk, _) = try await GLPK.solve(model, control: SolveControl(timeLimit: 60))
        let python = root.appendingPathComponent("../venv/bin/python3").standardized.path
        let file = root.appendingPathComponent("facility.json")
        try JSONEncoder().encode(model).write(to: file)
        let peer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "Support/mip_peer.py"
        ).path
        let out = try? Shell.run(python, [peer, file.path, String(runs)]).out
        let r = out.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        let cbcTime = Measure.medianOf(cbc)
        let described = "\(ours?.status.rawValue ?? "?") \(ours?.objective.map { String(format: "%.0f", $0) } ?? "-")"
        if let r, let times = r["times"] as? [Double], let objective = r["objective"] as? Double {
            let highs = Measure.medianOf(times)
            precondition(ours.flatMap(\.objective).map { abs($0 - objective) <= 1e-6 * objective } == true, "CBC and HiGHS disagree")
            report.row(
                "CBC, proven optimum (\(described))",
                String(format: "%.2f s", cbcTime),
                "HiGHS, proven (\(r["status"] as? String ?? "?") \(String(format: "%.0f", objective)))",
                String(format: "%.2f s", highs),
                String(format: "%.1f× HiGHS", cbcTime / highs)
            )
        } else {
            report.row("CBC, proven optimum (\(described))", String(format: "%.2f s", cbcTime), "HiGHS", "not installed", "")
        }
        report.row(
            "GLPK, 60 s limit",
            "\(glpk.status.rawValue) \(glpk.objective.map { String(format: "%.0f", $0) } ?? "-"), gap \(glpk.gap.map { String(format: "%.3f%%", $0 * 100) } ?? "-")",
            "",
            "",
            ""
        )
    }
}
