import ArgumentParser
import CairnCore

/// The `cairn` command: a versioned, governed world model on a local data folder.
public struct Cairn: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "A versioned world model: every entity a file, every write a commit.",
        discussion: """
            Refs name a branch (main), a commit id or unique prefix (4+ hex digits), or a branch as it \
            was at an instant: main@2026-11-26T16:00:00Z. Every command takes --json for scripts.
            """,
        version: CairnVersion.current,
        subcommands: [
            Init.self, ProjectCommand.self, Write.self, Read.self, Edit.self, Remove.self, Apply.self,
            GlobCommand.self, Grep.self, Log.self, Show.self, Diff.self, Blame.self, BranchCommand.self,
            Merge.self, MergeRequestCommand.self, ApprovalCommand.self, OntologyCommand.self, Violations.self, RunCommand.self,
            SolveCommand.self, MCPCommand.self, RunsCommand.self, LineageCommand.self, Revert.self, Verify.self, Import.self, Serve.self,
            Migrate.self, Copy.self, Admin.self, Audit.self, SolveWorker.self, WorkflowCommand.self, Export.self,
        ]
    )

    public init() {}
}
