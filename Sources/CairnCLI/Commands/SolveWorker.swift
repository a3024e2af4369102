import ArgumentParser
import CairnSolve

/// `cairn solve-worker`: one CBC solve in a process of its own (see `CBC`). The server starts
/// it; it reads its job on standard input and answers on standard output. Not for people.
struct SolveWorker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solve-worker",
        abstract: "Solve one MIP with CBC (started by the server; reads a job on stdin).",
        shouldDisplay: false
    )

    func run() throws {
        let status = CBC.work()
        if status != 0 { throw ExitCode(status) }
    }
}
