import ArgumentParser
import CairnCore
import CairnGovernance
import CairnOntology
import CairnStore
import Foundation

/// `cairn ontology`: the typed world model of a project.
struct OntologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ontology",
        abstract: "Show, try and set a project's ontology.",
        discussion: """
            The ontology (.cairn/ontology.json) declares entity types, link types and constraints; every \
            write, merge and revert is validated against it. Setting it validates every existing entity: \
            violations refuse it unless --accept-violations, which records them with the change.
            """,
        subcommands: [Show.self, Check.self, SetOntology.self],
        defaultSubcommand: Show.self
    )

    static func report(_ r: MigrationReport) -> String {
        var lines = ["\(r.entities) entities governed; \(r.violations.count) violation(s); \(r.defaulted.count) received defaults"]
        lines += r.violations.map(Format.violation)
        lines += r.defaulted.sorted { $0.key < $1.key }.map { "  default: \($0.key) (\($0.value.joined(separator: ", ")))" }
        return lines.joined(separator: "\n")
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the ontology.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Option(name: .long, help: "A ref: branch, commit or branch@time.") var at = "main"

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: nil, reason: "show ontology")
                let (_, _, bytes) = try await c.gateway.readBytes(c.caller, project: c.project, path: Ontology.path, at: at)
                Console.writeOut(String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What setting an ontology would do, without doing it.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The ontology file, or - for standard input.") var file: String
        @Option(name: .long, help: "Check against this ref.") var at = "main"

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: nil, reason: "check ontology")
                let r = try await c.gateway.ontology.check(c.caller, project: c.project, ontology: Array(try readLocalFile(file)), at: at)
                global.console.emit(r) { OntologyCommand.report(r) }
            }
        }
    }

    struct SetOntology: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set the ontology: a migration validated against every entity."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @OptionGroup var commit: CommitOptions
        @Argument(help: "The ontology file, or - for standard input.") var file: String
        @Flag(name: .long, help: "Set it even if existing entities violate it; the violations are recorded.") var acceptViolations = false

        func run() async throws {
            try await runReporting(global) {
                let c = try await project.change(global, commit, default: "set the ontology")
                let (out, r) = try await c.gateway.ontology.put(
                    c.caller,
                    project: c.project,
                    ontology: Array(try readLocalFile(file)),
                    branch: commit.branch,
                    acceptViolations: acceptViolations
                )
                struct Out: Encodable {
                    let outcome: CommitOutcome
                    let report: MigrationReport
                }
                global.console.emit(Out(outcome: out, report: r)) { Format.outcome(out) + "\n" + OntologyCommand.report(r) }
            }
        }
    }
}

/// `cairn violations`: every entity that breaks the ontology, at any ref.
struct Violations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List every violation of the ontology at a ref; exit 1 if there is any.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @Option(name: .long, help: "A ref: branch, commit or branch@time.") var at = "main"
    @Option(name: .long, help: "At most this many (whole entities).") var limit = 1000
    @Option(name: .long, help: "Continue after this path.") var cursor: String?

    func run() async throws {
        var found = false
        try await runReporting(global) {
            let c = try await LocalAccess(global, project: project, author: nil, reason: "violations")
            let r = try await c.gateway.ontology.violations(c.caller, project: c.project, at: at, limit: limit, after: cursor)
            found = !r.violations.isEmpty
            global.console.emit(r) {
                (["\(r.entities) entities at \(r.commit.prefix(12)); \(r.violations.count) violation(s)"]
                    + r.violations.map(Format.violation)
                    + (r.next.map { ["more: --cursor \($0)"] } ?? [])).joined(separator: "\n")
            }
        }
        if found { throw ExitCode.failure }
    }
}
