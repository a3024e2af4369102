import CCBC
import Foundation

extension CBC {
    /// What the parent hands the worker on its standard input.
    struct Job: Codable {
        var model: LinearModel
        var timeLimit: Double
        var gap: Double
    }

    /// The worker process's whole life (`cairn solve-worker`): reads a job on standard input,
    /// solves it here with CBC, and writes the result as JSON on standard output. CBC prints its
    /// log with `printf` whatever its log level, so the worker points its standard output at
    /// standard error (the log channel the parent reads line by line) and keeps the real one for
    /// the result alone. Returns the process's exit status.
    public static func work() -> Int32 {
        // Started by a server: die with it (a parent already gone, too).
        if let parent = ProcessInfo.processInfo.environment["CAIRN_SOLVER_PARENT"].flatMap(Int32.init),
            cairn_die_with_parent(parent) != 0
        {
            return 75
        }
        let resultFD = dup(1)
        guard resultFD >= 0, dup2(2, 1) >= 0 else { return 70 }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let result: SolveResult
        do {
            let job = try JSONDecoder().decode(Job.self, from: input)
            result = solveHere(job)
        } catch {
            var failed = SolveResult(status: .error, solver: version)
            failed.message = "the solver worker could not read its job: \(error)"
            result = failed
        }
        fflush(nil)
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let bytes = (try? encoder.encode(result)) ?? Data()
        let out = FileHandle(fileDescriptor: resultFD, closeOnDealloc: true)
        out.write(bytes)
        return 0
    }

    /// One model solved by CBC in this process, under its time limit and gap.
    static func solveHere(_ job: Job) -> SolveResult {
        let model = job.model
        let cbc = Cbc_newModel()!
        defer { Cbc_deleteModel(cbc) }
        var column: [String: Int32] = [:]
        for (j, v) in model.variables.enumerated() {
            column[v.name] = Int32(j)
            let lower = v.lower ?? -Double.greatestFiniteMagnitude
            let upper = v.upper ?? Double.greatestFiniteMagnitude
            Cbc_addCol(cbc, v.name, lower, upper, model.objective[v.name] ?? 0, v.type == .continuous ? 0 : 1, 0, nil, nil)
        }
        for c in model.constraints {
            let terms = c.terms.sorted { $0.key < $1.key }.filter { $0.value != 0 }
            var columns = terms.map { column[$0.key]! }
            var coefficients = terms.map(\.value)
            let sense: CChar =
                switch c.op {
                case .lessOrEqual: CChar(UInt8(ascii: "L"))
                case .greaterOrEqual: CChar(UInt8(ascii: "G"))
                case .equal: CChar(UInt8(ascii: "E"))
                }
            Cbc_addRow(cbc, c.name, Int32(columns.count), &columns, &coefficients, sense, c.rhs)
        }
        Cbc_setObjSense(cbc, model.sense == .minimize ? 1 : -1)
        Cbc_setMaximumSeconds(cbc, job.timeLimit)
        if job.gap > 0 { Cbc_setAllowableFractionGap(cbc, job.gap) }
        Cbc_setLogLevel(cbc, 1)
        let started = Date()
        Cbc_solve(cbc)
        var result = SolveResult(status: .error, solver: version)
        result.solveTime = Date().timeIntervalSince(started)
        let constant = model.objectiveConstant ?? 0
        let status = Cbc_status(cbc)
        let secondary = Cbc_secondaryStatus(cbc)
        let hasSolution = Cbc_bestSolution(cbc) != nil && Cbc_numberSavedSolutions(cbc) > 0 || Cbc_isProvenOptimal(cbc) != 0
        if Cbc_isContinuousUnbounded(cbc) != 0 || secondary == 7 {
            result.status = .unbounded
            result.message = "the LP relaxation is unbounded"
            return result
        }
        if (Cbc_isProvenInfeasible(cbc) != 0 || Cbc_isInitialSolveProvenPrimalInfeasible(cbc) != 0) && !hasSolution {
            result.status = .infeasible
            return result
        }
        if hasSolution {
            result.objective = Cbc_getObjValue(cbc) + constant
            result.bestBound = Cbc_getBestPossibleObjValue(cbc) + constant
            readSolution(cbc, model, into: &result)
        }
        switch (status, secondary) {
        case (-1, _) where Cbc_isProvenOptimal(cbc) != 0 || Cbc_isInitialSolveProvenOptimal(cbc) != 0,
            (0, 0) where Cbc_isProvenOptimal(cbc) != 0:
            // -1: a linear program, answered by its first solve (no branch-and-bound).
            result.status = .optimal
            result.bestBound = result.objective
        case (0, 2), (1, 2):
            result.status = .optimal
            result.message = "optimal within the gap tolerance \(job.gap)"
        case (1, _):
            result.status = hasSolution ? .feasible : .timeLimit
            result.message = hasSolution ? "stopped at the time limit with a feasible solution" : "stopped at the time limit"
        case (2, _):
            result.message = "CBC abandoned the search (numerical difficulties)"
        default:
            result.status = hasSolution ? .feasible : .error
            result.message = "CBC ended with status \(status) (\(secondary))"
        }
        if let objective = result.objective, let bound = result.bestBound {
            result.gap = abs(objective - bound) / (abs(objective) + Double.ulpOfOne)
        }
        return result
    }

    /// Values, the rows that sit on a bound, and the objective's drivers.
    static func readSolution(_ cbc: UnsafeMutableRawPointer, _ model: LinearModel, into result: inout SolveResult) {
        guard let values = Cbc_getColSolution(cbc) else { return }
        var coefficients: [String: Double] = [:]
        for (j, v) in model.variables.enumerated() {
            // Integers come back within CBC's integrality tolerance: rounded, as GLPK reports them.
            let x = values[j]
            result.values[v.name] = 0 + (v.type == .continuous ? x : x.rounded())
            coefficients[v.name] = model.objective[v.name] ?? 0
        }
        if let activity = Cbc_getRowActivity(cbc) {
            for (i, c) in model.constraints.enumerated() {
                let a = activity[i]
                if abs(a - c.rhs) <= 1e-9 * max(1, abs(c.rhs)) {
                    result.binding.append(SolveResult.Binding(name: c.name, activity: a, bound: c.rhs, dual: nil))
                }
            }
        }
        result.drivers = SolveResult.drivers(coefficients: coefficients, values: result.values)
    }
}
