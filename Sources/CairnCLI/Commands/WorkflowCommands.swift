import ArgumentParser
import CairnCore
import CairnEngine
import CairnGovernance
import CairnStore
import Foundation

/// `cairn workflow`: standing work in a project, run by the engine within a scope.
struct WorkflowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflow",
        abstract: "Define, enable, run and follow a project's workflows.",
        discussion: """
            A workflow is a definition file, .cairn/workflows/NAME.json: its target branch, its scope (a role, \
            optionally a path glob), inputs, triggers (manual, cron), steps (primitive calls whose arguments may \
            name inputs and earlier steps' values) and a failure policy. Enabling it makes the enabler answer for \
            it: its runs act within its scope and within the enabler's authority, checked at every call. Here, \
            on the data folder, runs happen in this process; a running `cairn serve` fires the cron triggers.
            """,
        subcommands: [List.self, Show.self, SetWorkflow.self, Enable.self, Disable.self, Pause.self, Resume.self, RunOnce.self, Runs.self],
        defaultSubcommand: List.self
    )

    static func workflows(_ c: LocalAccess) -> Workflows { Workflows(engine: Engine(gateway: c.gateway)) }

    static func describe(_ s: WorkflowState) -> String {
        (s.enabled ? "enabled" : "disabled") + (s.paused ? ", paused" : "") + (s.enabledBy.map { " by \($0)" } ?? "")
    }

    static func describe(_ r: WorkflowRun) -> String {
        var lines = [
            "run \(r.id) of \(r.workflow): \(r.status.rawValue)\(r.outcome.map { " (\($0))" } ?? "")  trigger \(r.trigger.kind)"
                + "\(r.trigger.scheduledFor.map { " for \($0)" } ?? "")\(r.run.map { "  engine run \($0)" } ?? "")"
        ]
        for s in r.steps {
            lines.append(
                "  \(s.id) (\(s.kind)): \(s.outcome.rawValue)\(s.attempts > 1 ? ", \(s.attempts) attempts" : "")"
                    + "\(s.commits.isEmpty ? "" : ", committed \(s.commits.map { String($0.prefix(12)) }.joined(separator: ", "))")"
                    + "\(s.error.map { ": \($0)" } ?? "")"
            )
        }
        if let f = r.failure { lines.append("  failure: \(f)") }
        if let m = r.mergeCommit { lines.append("  merged as \(m.prefix(12))") }
        if let n = r.mergeRequest { lines.append("  merge request !\(n)") }
        return lines.joined(separator: "\n")
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The project's workflows and their state.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Option(name: .long, help: "At most this many.") var limit = 100
        @Option(name: .long, help: "Continue after this cursor.") var cursor: String?

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: nil, reason: "list workflows")
                let page = try await WorkflowCommand.workflows(c).list(c.caller, project: c.project, limit: limit, cursor: cursor)
                global.console.emit(["workflows": page.workflows]) {
                    page.workflows.map { "\($0.name)  \(WorkflowCommand.describe($0.state))" }.joined(separator: "\n")
                        + (page.next.map { "\n(more: --cursor \($0))" } ?? "")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A workflow's definition and state.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The workflow's name.") var name: String

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: nil, reason: "show workflow")
                let w = try await WorkflowCommand.workflows(c).show(c.caller, project: c.project, name: name)
                global.console.emit(w) { "\(w.name): \(WorkflowCommand.describe(w.state))\n\(w.definition?.text ?? "(not JSON)")" }
            }
        }
    }

    struct SetWorkflow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Write a workflow's definition (validated: every problem is listed). Writing never enables it."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @OptionGroup var commit: CommitOptions
        @Argument(help: "The workflow's name.") var name: String
        @Argument(help: "The definition file, or - for standard input.") var file: String

        func run() async throws {
            try await runReporting(global) {
                let c = try await project.change(global, commit, default: "set workflow \(name)")
                let out = try await WorkflowCommand.workflows(c).set(
                    c.caller,
                    project: c.project,
                    name: name,
                    definition: Array(try readLocalFile(file)),
                    branch: commit.branch
                )
                global.console.emit(out) { Format.outcome(out) }
            }
        }
    }

    /// The four state changes share their shape.
    struct StateChange: ParsableArguments {
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Option(name: [.short, .long], help: "Why.") var message: String?
        @Option(name: .long, help: ArgumentHelp("Who: recorded as the actor (default: $CAIRN_AUTHOR, else $USER).", valueName: "name"))
        var author: String?
        @Argument(help: "The workflow's name.") var name: String

        func apply(_ verb: String, _ change: (Workflows, Caller, String, String) async throws -> WorkflowState) async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: author, reason: message ?? "\(verb) workflow \(name)")
                let s = try await change(WorkflowCommand.workflows(c), c.caller, c.project, name)
                global.console.emit(s) { "\(name): \(WorkflowCommand.describe(s))" }
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a workflow; you answer for it.")
        @OptionGroup var args: StateChange
        func run() async throws { try await args.apply("enable") { try await $0.enable($1, project: $2, name: $3) } }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a workflow: nothing fires; runs stop before their next step.")
        @OptionGroup var args: StateChange
        func run() async throws { try await args.apply("disable") { try await $0.disable($1, project: $2, name: $3) } }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a workflow's schedules (firings are recorded as skipped).")
        @OptionGroup var args: StateChange
        func run() async throws { try await args.apply("pause") { try await $0.pause($1, project: $2, name: $3) } }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a workflow's schedules from now.")
        @OptionGroup var args: StateChange
        func run() async throws { try await args.apply("resume") { try await $0.resume($1, project: $2, name: $3) } }
    }

    struct RunOnce: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a workflow now, in this process, and print how each step went (exit 1 if it failed, 3 if it waits for approval)."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Option(
            name: .long,
            help: ArgumentHelp("An input, NAME=VALUE (VALUE read as JSON if it parses, else as a string).", valueName: "name=value")
        )
        var input: [String] = []
        @Option(name: .long, help: ArgumentHelp("Who: recorded as the one who started it.", valueName: "name")) var author: String?
        @Argument(help: "The workflow's name.") var name: String

        func run() async throws {
            try await runReporting(global) {
                var inputs: [String: JSONValue] = [:]
                for item in input {
                    guard let eq = item.firstIndex(of: "=") else {
                        throw CairnError(.invalidArgument, "--input takes NAME=VALUE, not '\(item)'")
                    }
                    let value = String(item[item.index(after: eq)...])
                    inputs[String(item[..<eq])] = JSONValue.parse(Array(value.utf8)) ?? .string(value)
                }
                let c = try await LocalAccess(global, project: project, author: author, reason: "run workflow \(name)")
                let r = try await WorkflowCommand.workflows(c).start(c.caller, project: c.project, name: name, inputs: inputs, wait: true)
                global.console.emit(r) {
                    WorkflowCommand.describe(r)
                        + (r.status == .paused
                            ? "\nwaiting for approval: request \(r.approval ?? "?"); an approver decides with "
                                + "`cairn approval decide \(r.approval ?? "ID") approve -m WHY`, and the run goes on" : "")
                }
                // Exit 3, as for any request waiting in the approval queue; 1 when the run failed.
                if r.status == .paused { throw ExitCode(3) }
                if r.status != .succeeded { throw ExitCode(1) }
            }
        }
    }

    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A workflow's runs, oldest first, or one run with --id.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The workflow's name.") var name: String
        @Option(name: .long, help: "One run's id.") var id: String?
        @Option(name: .long, help: "At most this many.") var limit = 50
        @Option(name: .long, help: "Continue after this cursor.") var cursor: String?

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: nil, reason: "list workflow runs")
                let workflows = WorkflowCommand.workflows(c)
                if let id {
                    let r = try await workflows.run(c.caller, project: c.project, name: name, id: id)
                    global.console.emit(r) { WorkflowCommand.describe(r) }
                    return
                }
                let page = try await workflows.runs(c.caller, project: c.project, name: name, limit: limit, cursor: cursor)
                global.console.emit(["runs": page.runs]) {
                    page.runs.map(WorkflowCommand.describe).joined(separator: "\n") + (page.next.map { "\n(more: --cursor \($0))" } ?? "")
                }
            }
        }
    }
}
