import ArgumentParser
import CairnCore
import CairnGovernance
import CairnSQLite
import CairnStore
import Foundation

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the data folder and its store (safe to run again); on PostgreSQL, create or update the schema."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await runReporting(global) {
            do {
                try FileManager.default.createDirectory(atPath: global.dataFolder, withIntermediateDirectories: true)
            } catch {
                throw CairnError(
                    .storage,
                    "cannot create the data folder '\(global.dataFolder)': \(error.localizedDescription)",
                    details: ["data": global.dataFolder]
                )
            }
            let location = try global.storeLocation()
            _ = try await global.organization(Repository(storage: location.open(migrate: true)), create: true)
            struct Out: Encodable {
                let data: String
                let store: String
            }
            global.console.emit(Out(data: global.dataFolder, store: location.description)) {
                location.isPostgres ? "initialized the Cairn store in \(location)" : "initialized Cairn data in \(global.dataFolder)"
            }
        }
    }
}

struct ProjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Create and list projects.",
        subcommands: [Create.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a project with an empty main branch.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Lowercase letters, digits, '-', '_' or '.'.") var name: String
        @Option(name: .long, help: "Who creates it (default: $CAIRN_AUTHOR, else $USER).") var author: String?

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(
                    global,
                    project: nil,
                    author: author,
                    reason: "create project \(name)",
                    createOrganization: true
                )
                let record = try await c.gateway.createProject(c.caller, name: name)
                global.console.emit(record) { "created project \(record.name)" }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List projects.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(global) {
                // System projects (`_system`, the access configuration) are reached only through `cairn admin`.
                let local = try await LocalAccess(global, project: nil, author: nil, reason: nil)
                let all = try await local.gateway.projects(local.caller)
                global.console.emit(all) { all.map(\.name).joined(separator: "\n") }
            }
        }
    }
}
