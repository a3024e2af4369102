import CCBC
import Foundation
import Synchronization

/// MIPs through CBC (COIN-OR's branch-and-cut, linked through its C API): the solver that proves
/// optimality where GLPK's branch-and-cut stalls (a capacitated facility location of 20 × 200).
///
/// Each solve runs in a worker process of the same binary (`cairn solve-worker`), not in the
/// server, for three reasons CBC 2.10's C API leaves no other way around:
/// - it prints its log on standard output whatever its log level, and standard output is the
///   protocol channel of `cairn mcp`;
/// - it has no way to stop a search from outside, and a cancelled solve must stop: the worker
///   is killed;
/// - a solver's crash or runaway memory stays in the worker.
/// The worker's log arrives line by line, and the search's progress (each new incumbent and
/// bound) is read from it as it comes.
public enum CBC {
    public static var version: String { "CBC " + String(cString: Cbc_getVersion()) }

    /// The program that solves: the `cairn` binary. `CAIRN_SOLVER_WORKER` names it outright;
    /// otherwise this process's own executable when it is `cairn`, else the `cairn` beside it
    /// (a test runner in the build folder).
    public static func defaultWorker() -> URL {
        if let named = ProcessInfo.processInfo.environment["CAIRN_SOLVER_WORKER"], !named.isEmpty {
            return URL(fileURLWithPath: named)
        }
        let own = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        if own.lastPathComponent == "cairn" { return own }
        return own.deletingLastPathComponent().appendingPathComponent("cairn")
    }

    /// Solves a JSON model in a worker process. `progress` sees each new incumbent or bound as
    /// the worker reports it. Returns the result (with its progress) and the solver's log.
    public static func solve(
        _ model: LinearModel,
        control: SolveControl,
        worker: URL = defaultWorker(),
        progress: (@Sendable (SolveResult.Progress) -> Void)? = nil
    ) async throws(SolveError) -> (result: SolveResult, log: String) {
        try model.validate()
        let job: Data
        do {
            job = try JSONEncoder().encode(Job(model: model, timeLimit: control.timeLimit, gap: control.gapTolerance))
        } catch {
            throw SolveError(.invalidModel, "the model could not be encoded for the solver: \(error)")
        }
        let outcome: Result<(SolveResult, String), SolveError> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: run(job, control: control, worker: worker, progress: progress))
            }
        }
        return try outcome.get()
    }

    /// Most of a log kept with the result; the rest is cut (the head and the tail matter most).
    static let maxLog = 1 << 20

    /// The worker's run, on a thread of its own: started, fed, watched (cancellation, and a
    /// deadline past CBC's own time limit in case it overruns), read to its end.
    static func run(
        _ job: Data,
        control: SolveControl,
        worker: URL,
        progress: (@Sendable (SolveResult.Progress) -> Void)?
    ) -> Result<(SolveResult, String), SolveError> {
        let process = Process()
        process.executableURL = worker
        process.arguments = ["solve-worker"]
        var environment = ProcessInfo.processInfo.environment
        environment["CAIRN_SOLVER_PARENT"] = String(getpid())
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        // A worker that ends before reading its job must not take the server down with SIGPIPE:
        // the write fails instead, and the worker's exit status says what happened.
        signal(SIGPIPE, SIG_IGN)
        do { try process.run() } catch {
            return .failure(SolveError(.solverFailed, "the CBC worker (\(worker.path)) could not be started: \(error)"))
        }
        let log = LogReader(progress: progress)
        let reading = Thread { log.read(errors.fileHandleForReading) }
        reading.start()
        let result = Mutex<Data>(Data())
        let collected = DispatchSemaphore(value: 0)
        let collecting = Thread {
            result.withLock { $0 = output.fileHandleForReading.readDataToEndOfFile() }
            collected.signal()
        }
        collecting.start()
        try? input.fileHandleForWriting.write(contentsOf: job)
        try? input.fileHandleForWriting.close()
        let started = Date()
        let deadline = started.addingTimeInterval(control.timeLimit + 10)
        var killed: SolveResult.Status?
        while process.isRunning {
            if control.isCancelled || Date() > deadline {
                killed = control.isCancelled ? .cancelled : .timeLimit
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        log.finished.wait()
        collected.wait()
        let text = log.text
        if let killed {
            var r = SolveResult(status: killed, solver: version)
            r.message = killed == .cancelled ? "cancelled: the solver was stopped" : "the solver overran its time limit and was stopped"
            r.progress = log.steps
            r.solveTime = Date().timeIntervalSince(started)
            return .success((r, text))
        }
        let bytes = result.withLock { $0 }
        guard process.terminationStatus == 0, var solved = try? JSONDecoder().decode(SolveResult.self, from: bytes) else {
            return .failure(
                SolveError(.solverFailed, "the CBC worker failed (exit \(process.terminationStatus)); the solver log says why")
            )
        }
        solved.progress = log.steps
        if solved.status == .infeasible, Self.saysUnbounded(text) {
            solved.status = .unbounded
            solved.message = "the LP relaxation is unbounded"
        }
        return .success((solved, text))
    }

    /// CBC's C API reports an unbounded relaxation as infeasible; its log tells them apart: the
    /// dual is infeasible ("Dual infeasible") while nothing says the primal is.
    static func saysUnbounded(_ log: String) -> Bool {
        (log.contains("Dual infeasible") || log.contains("DualInfeasible") || log.contains("thinks problem is unbounded"))
            && !log.contains("Primal infeasible") && !log.contains("PrimalInfeasible") && !log.contains("problem is infeasible")
    }

    /// Reads the worker's log as it comes: keeps the text and turns the lines that report a new
    /// incumbent or bound into progress steps.
    final class LogReader: @unchecked Sendable {
        // @unchecked: written by the reading thread until `finished` is signalled, read after.
        private(set) var text = ""
        private(set) var steps: [SolveResult.Progress] = []
        let finished = DispatchSemaphore(value: 0)
        let progress: (@Sendable (SolveResult.Progress) -> Void)?
        private var incumbent: Double?
        private var bound: Double?

        init(progress: (@Sendable (SolveResult.Progress) -> Void)?) { self.progress = progress }

        func read(_ handle: FileHandle) {
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let end = pending.firstIndex(of: 0x0a) {
                    let line = String(decoding: pending[pending.startIndex..<end], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...end)
                    take(line)
                }
            }
            if !pending.isEmpty { take(String(decoding: pending, as: UTF8.self)) }
            finished.signal()
        }

        func take(_ line: String) {
            if text.utf8.count < CBC.maxLog { text += line + "\n" }
            guard let step = Self.step(line, incumbent: incumbent, bound: bound) else { return }
            incumbent = step.incumbent
            bound = step.bound
            steps.append(step)
            progress?(step)
        }

        /// A progress step from one of CBC's log lines, given what is known already:
        /// `Cbc0012I Integer solution of 43535 found by … (2.34 seconds)` (and Cbc0004I, Cbc0011I),
        /// `Cbc0010I After 100 nodes, 35 on tree, 43535 best solution, best possible 43400.1 (5.21 seconds)`.
        static func step(_ line: String, incumbent: Double?, bound: Double?) -> SolveResult.Progress? {
            func number(after marker: String) -> Double? {
                guard let r = line.range(of: marker) else { return nil }
                return number(after: r.upperBound)
            }
            func number(after index: String.Index) -> Double? {
                let rest = line[index...].drop { $0 == " " }
                return Double(rest.prefix { !$0.isWhitespace && $0 != "," && $0 != ")" })
            }
            let seconds = line.range(of: " seconds)").flatMap { r -> Double? in
                let head = line[..<r.lowerBound]
                guard let open = head.lastIndex(of: "(") else { return nil }
                return Double(head[head.index(after: open)...])
            }
            guard let seconds else { return nil }
            if line.contains("Integer solution of"), let value = number(after: "Integer solution of") {
                return SolveResult.Progress(seconds: seconds, incumbent: value, bound: bound)
            }
            if line.contains("improved solution from"), let r = line.range(of: " to "), let value = number(after: r.upperBound) {
                return SolveResult.Progress(seconds: seconds, incumbent: value, bound: bound)
            }
            if line.contains("Search completed - best objective"), let value = number(after: "best objective") {
                return SolveResult.Progress(seconds: seconds, incumbent: value, bound: value)  // a completed search proved it
            }
            if line.contains("best possible"), let best = number(after: "best possible") {
                let found = number(after: "on tree,").flatMap { _ in
                    line.range(of: " best solution").flatMap { r in
                        Double(line[..<r.lowerBound].split(separator: " ").last ?? "")
                    }
                }
                return SolveResult.Progress(seconds: seconds, incumbent: found ?? incumbent, bound: best)
            }
            return nil
        }
    }
}
