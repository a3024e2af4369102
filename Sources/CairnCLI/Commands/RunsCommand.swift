import ArgumentParser
import CairnCore
import CairnEngine
import CairnGovernance
import Foundation

/// `cairn runs`: agent runs (MCP sessions) and their recorded calls.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List agent runs, show one with every call, or roll one back.",
        subcommands: [List.self, Show.self, Replay.self, Rollback.self],
        defaultSubcommand: List.self
    )

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Re-execute a run's calls as its agent stands now, from its base: which answers are identical, which calls would now be "
                + "denied."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The run's id.") var id: String

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: nil, reason: "replay run \(id)")
                let report = try await RunReplay.replay(engine: Engine(gateway: c.gateway), caller: c.caller, project: c.project, id: id)
                global.console.emit(report) {
                    report.steps.map {
                        "\(String(format: "%3d", $0.seq)) \($0.tool) \($0.identical ? "identical" : "DIFFERENT") (was "
                            + "\($0.recordedDecision), now \($0.decisionNow))\($0.note.map { ": \($0)" } ?? "")"
                    }
                    .joined(separator: "\n") + "\n" + (report.identical ? "every call identical" : "differences found")
                        + (report.wouldNowBeDenied.isEmpty
                            ? "" : "; would now be denied: \(report.wouldNowBeDenied.map(String.init).joined(separator: ", "))")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The project's agent runs, oldest first.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Option(name: .long, help: "At most this many.") var limit = 50
        @Option(name: .long, help: "Continue after this cursor.") var cursor: String?

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: nil, reason: "list runs")
                let page = try await c.gateway.agentRuns(c.caller, project: c.project, limit: limit, cursor: cursor)
                global.console.emit(["runs": page.runs]) {
                    page.runs.map {
                        "\($0.id)  \($0.status.rawValue)  \($0.agent)\($0.onBehalfOf.map { " for \($0)" } ?? "")  \($0.calls.count) "
                            + "call(s)  \($0.started)"
                    }
                    .joined(separator: "\n") + (page.next.map { "\n(more: --cursor \($0))" } ?? "")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One run with every tool call in order.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The run's id.") var id: String

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: nil, reason: "show run")
                let run = try await c.gateway.agentRun(c.caller, project: c.project, id: id)
                global.console.emit(run) {
                    var lines = [
                        "run \(run.id): \(run.status.rawValue)\(run.message.map { " (\($0))" } ?? "")",
                        "agent \(run.agent)\(run.onBehalfOf.map { " for \($0)" } ?? ""), \(run.branch) from \(run.target) at "
                            + "\(run.base.prefix(12))",
                    ]
                    if let mr = run.mergeRequest { lines.append("merge request #\(mr)") }
                    for call in run.calls {
                        lines.append(
                            String(
                                format: "%3d %@ %@ (%.1f ms) %@",
                                call.seq,
                                call.tool,
                                call.decision,
                                call.milliseconds,
                                call.error ?? call.summary
                            )
                        )
                    }
                    return lines.joined(separator: "\n")
                }
            }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Undo a run: put back what it changed on the target (one commit), or discard its branch."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @OptionGroup var commit: CommitOptions
        @Argument(help: "The run's id.") var id: String

        func run() async throws {
            try await runReporting(global) {
                let c = try await project.change(global, commit, default: "roll back agent run \(id)")
                let run = try await c.gateway.rollbackAgentRun(c.caller, project: c.project, id: id)
                global.console.emit(run) {
                    "run \(run.id): \(run.status.rawValue)" + (run.rollbackCommit.map { ", commit \($0.prefix(12))" } ?? "")
                }
            }
        }
    }
}

/// `cairn lineage`: where a value came from.
struct LineageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage",
        abstract: "Where a JSON value came from: its commit, and the agent run, call, prior reads and approval behind it."
    )
    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @Argument(help: "The file's path.") var path: String
    @Argument(help: "A JSON pointer, e.g. /properties/ports.") var pointer: String
    @OptionGroup var ref: RefOptions

    func run() async throws {
        try await runReporting(global) {
            let c = try await LocalAccess(global, project: project, author: nil, reason: "lineage")
            let l = try await c.gateway.lineage(c.caller, project: c.project, path: path, pointer: pointer, at: ref.at)
            global.console.emit(l) {
                var lines = [
                    "\(l.path)\(l.pointer) = \(l.value.text)", "set by commit \(l.commit.prefix(12)), \(l.author), \(l.time): \(l.message)",
                ]
                if let run = l.run, let call = l.call {
                    lines.append(
                        "in agent run \(run) (\(l.agent ?? "?")\(l.onBehalfOf.map { " for \($0)" } ?? "")), call \(call.seq): "
                            + "\(call.tool) — \(call.summary)"
                    )
                    for read in l.readBefore { lines.append("  after reading \(read.path) (blob \(read.blob.prefix(12)))") }
                }
                if let mr = l.mergeRequest {
                    lines.append(
                        "admitted by merge request #\(mr.number): "
                            + mr.reviews.map { "\($0.reviewer) \($0.verdict.rawValue) (\($0.rationale))" }.joined(separator: "; ")
                    )
                }
                return lines.joined(separator: "\n")
            }
        }
    }
}
