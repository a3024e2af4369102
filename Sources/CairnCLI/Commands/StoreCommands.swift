import ArgumentParser
import CairnCore
import CairnPostgres
import CairnSQLite
import CairnStore
import Foundation

/// `cairn migrate`: brings a PostgreSQL store's schema up to date (servers do it at start too).
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or update a PostgreSQL store's schema (safe to run again, and while servers run).",
        discussion: "The store is --database-url or $CAIRN_DATABASE_URL. A SQLite store updates itself when opened."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await runReporting(global) {
            guard case .postgres(let location) = try global.storeLocation() else {
                throw CairnError(
                    .invalidArgument,
                    "no database URL: pass --database-url or set CAIRN_DATABASE_URL (a SQLite store migrates itself when opened)"
                )
            }
            let (applied, version) = try await PostgresStorage.migrate(location, logger: StoreLocation.quietLogger)
            struct Out: Encodable {
                let store: String
                let applied: [Int]
                let version: Int
            }
            global.console.emit(Out(store: location.description, applied: applied, version: version)) {
                applied.isEmpty
                    ? "\(location) is up to date (schema version \(version))"
                    : "\(location): applied schema version(s) \(applied.map(String.init).joined(separator: ", ")); now at \(version)"
            }
        }
    }
}

/// `cairn copy`: a whole store from one backend to the other, proved identical afterwards.
struct Copy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a whole store between SQLite and PostgreSQL, and verify both ends hold the same rows.",
        discussion: """
            FROM and TO are each a SQLite file (a data folder's cairn.sqlite) or a postgres:// URL; the \
            password comes from $CAIRN_DATABASE_PASSWORD or $CAIRN_DATABASE_PASSWORD_FILE. The \
            destination must be empty (a new SQLite file, or a database or schema Cairn has not used; \
            its schema is made as needed). Stop the servers writing to FROM first: a source that \
            changes during the copy is reported, never half-copied silently. Both ends are then \
            summarized table by table (rows and a SHA-256 over every row in key order), so the same \
            object ids, refs, ref log, history indexes and audit chain are proved, not assumed.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The store to copy from.") var from: String
    @Argument(help: "The empty store to copy into.") var to: String

    func run() async throws {
        try await runReporting(global) {
            let source = try StoreLocation.named(from)
            let destination = try StoreLocation.named(to)
            if case .sqlite(let path) = source, !FileManager.default.fileExists(atPath: path) {
                throw CairnError(.notFound, "no SQLite store at '\(path)'", details: ["store": path])
            }
            let input = try await source.open(migrate: false)
            let output = try await destination.open(migrate: true)
            // Progress on a terminal only: a line rewritten in place per page copied.
            let live = !global.json && isatty(STDERR_FILENO) == 1
            let started = Date()
            let summary = try await StoreCopy.copy(from: input, to: output) { table, rows in
                if live { FileHandle.standardError.write(Data("\r\u{1B}[Kcopying \(table.sqlName): \(rows) rows".utf8)) }
            }
            if live { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            struct Out: Encodable {
                let from: String
                let to: String
                let seconds: Double
                let tables: [TableSummary]
                let verified: Bool
            }
            let out = Out(
                from: source.description,
                to: destination.description,
                seconds: Date().timeIntervalSince(started),
                tables: summary,
                verified: true
            )
            global.console.emit(out) {
                let rows = summary.map { "  \($0.table): \($0.rows) rows, sha256 \($0.sha256.prefix(16))…" }.joined(separator: "\n")
                return
                    "copied \(source) to \(destination) in \(String(format: "%.1f", out.seconds)) s; both ends hold the same rows:\n\(rows)"
            }
        }
    }
}
