import CairnCore
import CairnPostgres
import CairnSQLite
import CairnStore
import Foundation
import Logging

/// Where a command's store is: PostgreSQL when a database URL is given (flag, `CAIRN_DATABASE_URL`
/// or the server's config file), else the SQLite file in the data folder.
///
/// The database password comes from `CAIRN_DATABASE_PASSWORD`, or the file named by
/// `CAIRN_DATABASE_PASSWORD_FILE` (or the config's `databasePasswordFile`); it may be in the
/// URL too, but is never printed: every message shows the location without it.
enum StoreLocation: CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// Reads the location from what the command was given and its environment.
    static func resolve(
        databaseURL: String?,
        passwordFile: String?,
        dataFolder: String,
        environment env: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> StoreLocation {
        guard let url = databaseURL ?? env["CAIRN_DATABASE_URL"], !url.isEmpty else {
            return .sqlite(path: URL(fileURLWithPath: dataFolder).appendingPathComponent("cairn.sqlite").path)
        }
        return .postgres(try PostgresLocation(url: url, password: try PostgresLocation.password(file: passwordFile, environment: env)))
    }

    /// A store named on the command line of `cairn copy`: a `postgres://` URL or a SQLite file.
    static func named(_ text: String, environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> StoreLocation {
        if PostgresLocation.isURL(text) {
            return .postgres(try PostgresLocation(url: text, password: try PostgresLocation.password(environment: env)))
        }
        return .sqlite(path: text)
    }

    var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let location): location.description
        }
    }

    /// Commands print what they did; the store logs only what went wrong.
    static var quietLogger: Logger {
        var logger = Logger(label: "cairn.store")
        logger.logLevel = .warning
        return logger
    }

    var isPostgres: Bool { if case .postgres = self { true } else { false } }

    /// Opens the store. SQLite brings its schema up to date on open; PostgreSQL only with
    /// `migrate` (servers and `cairn init`/`migrate`), so a plain command never alters a shared database.
    func open(migrate: Bool, logger: Logger = StoreLocation.quietLogger) async throws -> any Storage {
        switch self {
        case .sqlite(let path):
            return try SQLiteStorage(path: path)
        case .postgres(let location):
            return try await PostgresStorage.connect(location, migrate: migrate, logger: logger)
        }
    }
}
