import ArgumentParser
import CairnCore
import CairnGovernance
import CairnStore
import Foundation

struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the history of a branch, or of one path.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @OptionGroup var ref: RefOptions
    @Option(name: .long, help: "Only commits that changed this path.") var path: String?
    @Option(name: .long, help: "Commits per page.") var limit = 50
    @Option(name: .long, help: "Continue from a previous page's cursor.") var cursor: String?

    func run() async throws {
        try await runReporting(global) {
            let r = try await project.reading(global)
            let page = try await r.gateway.history.log(r.caller, project: r.project, at: ref.at, path: path, limit: limit, cursor: cursor)
            global.console.emit(page) {
                page.commits.map { e in
                    (e.change.map { Format.changeLetter($0) + "  " } ?? "") + Format.commitLine(e.commit)
                }.joined(separator: "\n")
            }
            if let next = page.next { global.console.note("(more: --cursor \(next))") }
        }
    }
}

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a commit: who, when, why, and what it changed.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @Argument(help: "A commit, branch, or branch@time.") var ref = "main"

    func run() async throws {
        try await runReporting(global) {
            let r = try await project.reading(global)
            let d = try await r.gateway.history.show(r.caller, project: r.project, ref: ref)
            global.console.emit(d) {
                let c = d.commit
                var lines = ["commit \(c.id.hex)"]
                if !c.parents.isEmpty { lines.append("parents \(c.parents.map(\.short).joined(separator: " "))") }
                lines.append("author \(c.author) (\(c.actorKind.rawValue))" + (c.onBehalfOf.map { " on behalf of \($0)" } ?? ""))
                if let run = c.runID { lines.append("run \(run)" + (c.step.map { " step \($0)" } ?? "")) }
                lines.append("date \(c.time)")
                lines.append("")
                lines.append(c.message.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
                lines.append("")
                lines.append(Format.files(d.files))
                return lines.joined(separator: "\n")
            }
        }
    }
}

struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Files added, modified and removed between two refs; for JSON files, the changed pointers."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @Argument(help: "The old side.") var from: String
    @Argument(help: "The new side.") var to: String = "main"
    @Flag(name: .long, help: "Skip the per-pointer JSON detail (faster on large diffs).") var namesOnly = false
    @Option(name: .long, help: "Files per page.") var limit = 10_000
    @Option(name: .long, help: "Continue after this path (a previous page's cursor).") var cursor: String?

    func run() async throws {
        try await runReporting(global) {
            let r = try await project.reading(global)
            let d = try await r.gateway.history.diff(
                r.caller,
                project: r.project,
                from: from,
                to: to,
                json: !namesOnly,
                limit: limit,
                after: cursor
            )
            global.console.emit(d) { Format.files(d.files) }
            global.console.note("\(d.added) added, \(d.modified) modified, \(d.deleted) deleted")
            if let next = d.next { global.console.note("(more: --cursor '\(next)')") }
        }
    }
}

struct Blame: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "For each value of a JSON file, the commit that last set it.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @Argument(help: "The JSON file's path.") var path: String
    @OptionGroup var ref: RefOptions

    func run() async throws {
        try await runReporting(global) {
            let r = try await project.reading(global)
            let entries = try await r.gateway.history.blame(r.caller, project: r.project, path: path, at: ref.at)
            global.console.emit(entries) {
                entries.map { "\($0.commit.short)  \($0.author)  \($0.time)  \($0.pointer) = \($0.value.text)" }.joined(separator: "\n")
            }
        }
    }
}

struct BranchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "branch",
        abstract: "List, create, archive and delete branches.",
        subcommands: [List.self, Create.self, Archive.self, Delete.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List branches: head, author, and commits ahead of and behind main.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: nil, reason: "list branches")
                let all = try await c.gateway.history.branches(c.caller, project: c.project)
                global.console.emit(all) {
                    all.map { b in
                        "\(b.name)  \(b.head.short)  \(b.author ?? "-")  +\(b.ahead) -\(b.behind)\(b.archived ? "  (archived)" : "")"
                    }.joined(separator: "\n")
                }
            }
        }
    }

    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Archive a branch: it becomes archive/NAME, read-only, with its history.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The branch.") var name: String
        @Option(name: [.short, .long], help: "Why.") var message: String?
        @Option(name: .long, help: "Who archives it.") var author: String?

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: author, reason: message ?? "archive branch \(name)")
                let b = try await c.gateway.history.archiveBranch(c.caller, project: c.project, branch: name)
                global.console.emit(b) { "archived \(name) as \(b.name) at \(b.head.short)" }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a branch at any commit.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The new branch's name.") var name: String
        @Option(name: .long, help: "Where it starts: a branch, commit, or branch@time.") var from = "main"
        @Option(name: .long, help: "Who creates it.") var author: String?

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: author, reason: "create branch \(name)")
                let b = try await c.gateway.history.createBranch(c.caller, project: c.project, branch: name, from: from)
                global.console.emit(b) { "created branch \(b.name) at \(b.head.short)" }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a branch (its commits stay in history).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The branch.") var name: String
        @Option(name: .long, help: "Who deletes it.") var author: String?

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: author, reason: "delete branch \(name)")
                try await c.gateway.history.deleteBranch(c.caller, project: c.project, branch: name)
                struct Out: Encodable { let deleted: String }
                global.console.emit(Out(deleted: name)) { "deleted branch \(name)" }
            }
        }
    }
}

struct Revert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Undo a commit with a new commit.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @OptionGroup var commit: CommitOptions
    @Argument(help: "The commit to undo.") var target: String

    func run() async throws {
        try await runReporting(global) {
            let c = try await project.change(global, commit, default: "revert \(target)")
            let out = try await c.gateway.history.revert(c.caller, project: c.project, ref: target, branch: commit.branch)
            global.console.emit(out) { Format.outcome(out) }
        }
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute every object id and check every reference; exit 2 if anything is corrupt."
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .long], help: "Only this project (default: all).") var project: String?

    func run() async throws {
        var corrupt = false
        try await runReporting(global) {
            let repo = try await global.openRepository()
            var names: [String]
            let org = try await global.organization(repo)
            if let project { names = [project] } else { names = try await repo.projects(organization: org.id).map(\.name) }
            var reports: [VerifyReport] = []
            let showProgress = !global.json && Console.stderrIsTerminal
            for name in names {
                let report = try await repo.project(name, organization: org.id).verify(progress: { checked in
                    if showProgress { FileHandle.standardError.write(Data("\rverifying \(name): \(checked) objects".utf8)) }
                })
                if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
                reports.append(report)
                corrupt = corrupt || !report.ok
            }
            let audit = try await AuditLog.verify(repo.storage, organization: org)
            corrupt = corrupt || !audit.ok
            struct Out: Encodable {
                let projects: [VerifyReport]
                let audit: AuditVerifyReport
            }
            global.console.emit(Out(projects: reports, audit: audit)) {
                (reports.map { r in
                    let head =
                        "\(r.project): \(r.objectsChecked) objects, \(r.commitsChecked) commits, "
                        + (r.ok ? "ok" : "\(r.problems.count) problem\(r.problems.count == 1 ? "" : "s")")
                    return ([head] + r.problems.map { "  \($0.kind) \($0.object): \($0.problem)" }).joined(separator: "\n")
                } + [Audit.AuditVerify.describe(audit)]).joined(separator: "\n")
            }
        }
        if corrupt { throw ExitCode(2) }
    }
}
