import CGLPK
import Foundation

/// LP and MIP through GLPK (the GNU Linear Programming Kit, linked as a system library): the
/// simplex method for linear programs, branch-and-cut for mixed-integer ones.
///
/// Each solve runs on a thread of its own: GLPK (built reentrant, as Debian ships it) keeps its
/// environment, and with it the terminal hook that captures the solver log, per thread; the
/// thread frees that environment when the solve ends. A GLPK error aborts the process, so models
/// are validated before they reach it.
public enum GLPK {
    public static var version: String { "GLPK " + String(cString: glp_version()) }

    /// A model's text form: free MPS (with `OBJSENSE`; an objective-row RHS is minus the
    /// objective's constant), or CPLEX LP as GLPK reads it (no constant in the objective).
    public enum TextFormat: String, Sendable, Codable { case lp, mps }

    /// Solves a JSON model. Returns the result and the solver's log. `progress` sees each new
    /// incumbent or bound of a MIP search as GLPK reports it.
    public static func solve(
        _ model: LinearModel,
        control: SolveControl,
        progress: (@Sendable (SolveResult.Progress) -> Void)? = nil
    ) async throws(SolveError) -> (result: SolveResult, log: String) {
        try model.validate()
        return try await onThread(progress: progress) { (session: Session) throws(SolveError) -> SolveResult in
            try session.load(model)
            return session.solve(control)
        }
    }

    /// Solves a model given as LP or MPS text.
    public static func solve(
        text: String,
        format: TextFormat,
        control: SolveControl
    ) async throws(SolveError) -> (result: SolveResult, log: String) {
        try await onThread { (session: Session) throws(SolveError) -> SolveResult in
            try session.read(text, format: format)
            return session.solve(control)
        }
    }

    private static func onThread(
        progress: (@Sendable (SolveResult.Progress) -> Void)? = nil,
        _ body: @escaping @Sendable (Session) throws(SolveError) -> SolveResult
    ) async throws(SolveError) -> (result: SolveResult, log: String) {
        let outcome: Result<(SolveResult, String), SolveError> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let session = Session()
                session.onProgress = progress
                defer {
                    session.close()
                    glp_free_env()
                }
                do throws(SolveError) {
                    let result = try body(session)
                    continuation.resume(returning: .success((result, session.log)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try outcome.get()
    }

    /// One problem on its thread: built, solved, read back, freed.
    final class Session {
        let problem: OpaquePointer
        var log = ""
        /// The best bound the branch-and-cut has proven so far, and whether it was told to stop.
        var bound: Double?
        var stopped = false
        var control: SolveControl?
        /// The MIP search's progress as GLPK prints it, from the solve's start.
        var steps: [SolveResult.Progress] = []
        var onProgress: (@Sendable (SolveResult.Progress) -> Void)?
        var started = Date()
        static let maxLog = 1 << 20

        init() {
            problem = glp_create_prob()
            glp_term_hook(
                { info, text in
                    guard let info, let text else { return 1 }
                    let session = Unmanaged<Session>.fromOpaque(info).takeUnretainedValue()
                    let line = String(cString: text)
                    if session.log.utf8.count < Session.maxLog { session.log += line }
                    session.noteProgress(line)
                    return 1  // captured, not printed
                },
                Unmanaged.passUnretained(self).toOpaque()
            )
        }

        func close() {
            glp_term_hook(nil, nil)
            glp_delete_prob(problem)
        }

        func load(_ model: LinearModel) throws(SolveError) {
            let n = model.variables.count
            let m = model.constraints.count
            glp_set_obj_dir(problem, model.sense == .minimize ? GLP_MIN : GLP_MAX)
            glp_add_cols(problem, Int32(n))
            var column: [String: Int32] = [:]
            for (k, v) in model.variables.enumerated() {
                let j = Int32(k + 1)
                column[v.name] = j
                let (type, lo, up) = Self.bounds(v.lower, v.upper)
                glp_set_col_bnds(problem, j, type, lo, up)
                if v.type != .continuous { glp_set_col_kind(problem, j, GLP_IV) }
                glp_set_obj_coef(problem, j, model.objective[v.name] ?? 0)
            }
            glp_set_obj_coef(problem, 0, model.objectiveConstant ?? 0)
            if m > 0 { glp_add_rows(problem, Int32(m)) }
            var ia: [Int32] = [0]
            var ja: [Int32] = [0]
            var ar: [Double] = [0]
            for (k, c) in model.constraints.enumerated() {
                let i = Int32(k + 1)
                switch c.op {
                case .lessOrEqual: glp_set_row_bnds(problem, i, GLP_UP, 0, c.rhs)
                case .greaterOrEqual: glp_set_row_bnds(problem, i, GLP_LO, c.rhs, 0)
                case .equal: glp_set_row_bnds(problem, i, GLP_FX, c.rhs, c.rhs)
                }
                for (name, a) in c.terms.sorted(by: { $0.key < $1.key }) where a != 0 {
                    ia.append(i)
                    ja.append(column[name]!)
                    ar.append(a)
                }
            }
            glp_load_matrix(problem, Int32(ar.count - 1), ia, ja, ar)
            names = (model.variables.map(\.name), model.constraints.map(\.name))
        }

        /// Column and row names, in GLPK's order.
        var names: (columns: [String], rows: [String]) = ([], [])

        func read(_ text: String, format: TextFormat) throws(SolveError) {
            var text = text
            var sense: Int32?
            if format == .mps { (text, sense) = Self.objectiveSense(text) }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-model-\(UUID().uuidString).\(format.rawValue)")
            defer { try? FileManager.default.removeItem(at: file) }
            do { try Data(text.utf8).write(to: file) } catch {
                throw SolveError(.solverFailed, "could not stage the model for GLPK: \(error)")
            }
            let status = format == .lp ? glp_read_lp(problem, nil, file.path) : glp_read_mps(problem, GLP_MPS_FILE, nil, file.path)
            guard status == 0 else {
                // GLPK names the file and line; the caller knows no file: keep the line and the reason.
                let reason =
                    log.split(separator: "\n").last { $0.contains(":") }.map { $0.replacingOccurrences(of: file.path, with: "model") }
                    ?? "unreadable"
                throw SolveError(.invalidModel, "the \(format.rawValue.uppercased()) text could not be read: \(reason)")
            }
            guard glp_get_num_cols(problem) > 0 else { throw SolveError(.invalidModel, "the model has no variables") }
            if let sense { glp_set_obj_dir(problem, sense) }
            // An RHS on the objective row is the objective's constant with the opposite sign (as
            // CPLEX, Gurobi and HiGHS write it); GLPK's reader takes it as the constant itself.
            if format == .mps { glp_set_obj_coef(problem, 0, -glp_get_obj_coef(problem, 0)) }
            let n = Int(glp_get_num_cols(problem))
            let m = Int(glp_get_num_rows(problem))
            names = (
                (1...max(1, n)).prefix(n).map { j in glp_get_col_name(problem, Int32(j)).map { String(cString: $0) } ?? "x\(j)" },
                (0..<m).map { k in glp_get_row_name(problem, Int32(k + 1)).map { String(cString: $0) } ?? "r\(k + 1)" }
            )
        }

        /// Takes out an `OBJSENSE` section (free MPS's way of saying "maximize", which GLPK's
        /// reader does not know): the text without it, and the direction it gave.
        static func objectiveSense(_ text: String) -> (String, Int32?) {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard let i = lines.firstIndex(where: { $0.hasPrefix("OBJSENSE") }) else { return (text, nil) }
            func direction(_ word: Substring) -> Int32? {
                switch word.uppercased() {
                case "MAX", "MAXIMIZE": GLP_MAX
                case "MIN", "MINIMIZE": GLP_MIN
                default: nil
                }
            }
            let words = lines[i].split(separator: " ")
            if words.count > 1 {
                lines.remove(at: i)
                return (lines.joined(separator: "\n"), direction(words[1]))
            }
            guard i + 1 < lines.count, lines[i + 1].first == " ", let word = lines[i + 1].split(separator: " ").first else {
                return (text, nil)
            }
            lines.removeSubrange(i...(i + 1))
            return (lines.joined(separator: "\n"), direction(word))
        }

        static func bounds(_ lower: Double?, _ upper: Double?) -> (Int32, Double, Double) {
            switch (lower, upper) {
            case (nil, nil): (GLP_FR, 0, 0)
            case (let l?, nil): (GLP_LO, l, 0)
            case (nil, let u?): (GLP_UP, 0, u)
            case (let l?, let u?): l == u ? (GLP_FX, l, u) : (GLP_DB, l, u)
            }
        }

        /// A step from GLPK's branch-and-cut lines, when the incumbent or the bound moved:
        /// `+   123: mip =   6.3104e+04 >=   6.3030e+04   0.1% (12; 0)` (`<=` when maximizing;
        /// `not found yet`, `tree is empty` where there is no number).
        func noteProgress(_ text: String) {
            for line in text.split(separator: "\n") where line.contains(": mip =") {
                guard let equals = line.range(of: "mip =") else { continue }
                let rest = line[equals.upperBound...]
                guard let relation = rest.range(of: ">=") ?? rest.range(of: "<=") else { continue }
                let incumbent = Double(rest[..<relation.lowerBound].trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil }
                let bound = rest[relation.upperBound...].split(separator: " ").first.flatMap { Double($0) }.flatMap {
                    $0.isFinite ? $0 : nil
                }
                guard incumbent != nil || bound != nil, incumbent != steps.last?.incumbent || bound != steps.last?.bound else { continue }
                let step = SolveResult.Progress(seconds: Date().timeIntervalSince(started), incumbent: incumbent, bound: bound)
                steps.append(step)
                onProgress?(step)
            }
        }

        /// Solves, and says how long it took. (The time is set here, after the work returned: a
        /// `defer` that set it on the result being returned would set it on a copy.)
        func solve(_ control: SolveControl) -> SolveResult {
            started = Date()
            var result = solve(control, started: started)
            result.solveTime = Date().timeIntervalSince(started)
            if !steps.isEmpty { result.progress = steps }
            return result
        }

        private func solve(_ control: SolveControl, started: Date) -> SolveResult {
            self.control = control
            let integer = glp_get_num_int(problem) > 0
            var result = SolveResult(status: .error, solver: GLPK.version)
            func remaining() -> Int32 {
                Int32(max(1, min(Double(Int32.max), (control.timeLimit - Date().timeIntervalSince(started)) * 1000)))
            }

            var smcp = glp_smcp()
            glp_init_smcp(&smcp)
            smcp.msg_lev = GLP_MSG_ON
            smcp.tm_lim = remaining()
            let lp = glp_simplex(problem, &smcp)
            let lpStatus = glp_get_status(problem)
            switch (lp, lpStatus) {
            case (_, GLP_NOFEAS):
                result.status = .infeasible
                return result
            case (_, GLP_UNBND):
                result.status = .unbounded
                if integer { result.message = "the LP relaxation is unbounded" }
                return result
            case (GLP_ETMLIM, _), (GLP_EITLIM, _):
                result.status = .timeLimit
                result.message = "the simplex method stopped at the time limit"
                return result
            case (0, GLP_OPT):
                break
            default:
                result.message = "GLPK's simplex method failed (code \(lp), status \(lpStatus))"
                return result
            }
            if !integer {
                result.status = .optimal
                result.objective = glp_get_obj_val(problem)
                result.bestBound = result.objective
                result.gap = 0
                readSolution(into: &result, mip: false)
                return result
            }
            if control.isCancelled {
                result.status = .cancelled
                return result
            }
            var iocp = glp_iocp()
            glp_init_iocp(&iocp)
            iocp.msg_lev = GLP_MSG_ON
            iocp.tm_lim = remaining()
            iocp.mip_gap = control.gapTolerance
            iocp.cb_info = Unmanaged.passUnretained(self).toOpaque()
            iocp.cb_func = { tree, info in
                guard let tree, let info else { return }
                let session = Unmanaged<Session>.fromOpaque(info).takeUnretainedValue()
                if session.control?.isCancelled == true {
                    session.stopped = true
                    glp_ios_terminate(tree)
                    return
                }
                let node = glp_ios_best_node(tree)
                if node != 0 { session.bound = glp_ios_node_bound(tree, node) }
            }
            let mip = glp_intopt(problem, &iocp)
            let mipStatus = glp_mip_status(problem)
            let hasSolution = mipStatus == GLP_OPT || mipStatus == GLP_FEAS
            if hasSolution {
                result.objective = glp_mip_obj_val(problem)
                readSolution(into: &result, mip: true)
            }
            switch mip {
            case 0 where mipStatus == GLP_OPT:
                result.status = .optimal
                result.bestBound = result.objective
            case 0 where mipStatus == GLP_NOFEAS, GLP_ENOPFS:
                result.status = .infeasible
            case GLP_EMIPGAP:
                result.status = .optimal
                result.message = "optimal within the gap tolerance \(control.gapTolerance)"
                result.bestBound = bound
            case GLP_ETMLIM, GLP_ESTOP:
                let why = mip == GLP_ESTOP ? "cancelled" : "stopped at the time limit"
                result.status = hasSolution ? .feasible : (mip == GLP_ESTOP ? .cancelled : .timeLimit)
                result.message = hasSolution ? "\(why) with a feasible solution" : why
                result.bestBound = bound
            default:
                result.status = .error
                result.message = "GLPK's branch-and-cut failed (code \(mip), status \(mipStatus))"
            }
            if let objective = result.objective, let b = result.bestBound {
                result.gap = abs(objective - b) / (abs(objective) + Double.ulpOfOne)
            }
            return result
        }

        /// Values, binding rows, the objective's drivers; duals and reduced costs for an LP.
        func readSolution(into result: inout SolveResult, mip: Bool) {
            var coefficients: [String: Double] = [:]
            for (k, name) in names.columns.enumerated() {
                let j = Int32(k + 1)
                result.values[name] = 0 + (mip ? glp_mip_col_val(problem, j) : glp_get_col_prim(problem, j))
                coefficients[name] = glp_get_obj_coef(problem, j)
            }
            var duals: [String: Double] = [:]
            var reduced: [String: Double] = [:]
            for (k, name) in names.rows.enumerated() {
                let i = Int32(k + 1)
                let activity = mip ? glp_mip_row_val(problem, i) : glp_get_row_prim(problem, i)
                let type = glp_get_row_type(problem, i)
                let dual: Double? = mip ? nil : 0 + glp_get_row_dual(problem, i)
                if let dual { duals[name] = dual }
                var candidates: [Double] = []
                if type == GLP_LO || type == GLP_DB || type == GLP_FX { candidates.append(glp_get_row_lb(problem, i)) }
                if type == GLP_UP || type == GLP_DB { candidates.append(glp_get_row_ub(problem, i)) }
                if let bound = candidates.first(where: { abs(activity - $0) <= 1e-9 * max(1, abs($0)) }) {
                    result.binding.append(SolveResult.Binding(name: name, activity: activity, bound: bound, dual: dual))
                }
            }
            if !mip {
                for (k, name) in names.columns.enumerated() { reduced[name] = 0 + glp_get_col_dual(problem, Int32(k + 1)) }
                result.duals = duals
                result.reducedCosts = reduced
            }
            result.drivers = SolveResult.drivers(coefficients: coefficients, values: result.values)
        }
    }
}
