import CairnPostgres
import CairnSQLite
import CairnStore
import Foundation
import GRDB

/// Which backend the storage tests run on this pass. scripts/test.sh runs the suite twice: on
/// SQLite, then with `CAIRN_TEST_BACKEND=postgres` against the throwaway cluster it started
/// (`CAIRN_TEST_POSTGRES_URL`, password file in `CAIRN_DATABASE_PASSWORD_FILE`).
public enum TestBackend {
    public static var isPostgres: Bool { ProcessInfo.processInfo.environment["CAIRN_TEST_BACKEND"] == "postgres" }
    public static var isSQLite: Bool { !isPostgres }

    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "CAIRN_TEST_BACKEND=postgres needs CAIRN_TEST_POSTGRES_URL (scripts/test.sh starts a cluster and sets it)"
        }
    }

    /// The cluster's URL, without a schema.
    public static func clusterURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["CAIRN_TEST_POSTGRES_URL"], !url.isEmpty else { throw NotConfigured() }
        return url
    }

    /// A URL for a fresh, empty store of the test's own: a new schema in the cluster, with a
    /// small pool (many tests run at once against one cluster).
    public static func freshPostgresURL(pool: Int = 4) throws -> String {
        "\(try clusterURL())?schema=t_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))&pool=\(pool)"
    }

    /// The cluster's password, from the file scripts/test.sh names.
    public static func password() -> String? {
        try? PostgresLocation.password()
    }

    /// Runs SQL with the real `psql` client in a store's schema, behind Cairn's back (for
    /// tests that tamper with stored bytes). `storeURL` is one `freshPostgresURL` made.
    public static func psql(_ sql: String, storeURL: String) throws -> Int32 {
        guard let parts = URLComponents(string: storeURL), let schema = parts.queryItems?.first(where: { $0.name == "schema" })?.value
        else { throw NotConfigured() }
        var plain = parts
        plain.query = nil
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = ["-q", "-v", "ON_ERROR_STOP=1", plain.string ?? "", "-c", "SET search_path TO \(schema); \(sql)"]
        var env = ProcessInfo.processInfo.environment
        env["PGPASSWORD"] = password()
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

extension TestBackend {
    /// A fresh, empty store on the pass's backend: a SQLite file in `directory`, or a schema of
    /// its own in the test cluster.
    public static func openStore(in directory: URL) async throws -> any Storage {
        if isPostgres {
            return try await PostgresStorage.connect(PostgresLocation(url: try freshPostgresURL(), password: password()), migrate: true)
        }
        return try SQLiteStorage(path: directory.appendingPathComponent("store.sqlite").path)
    }

    /// Runs SQL on a store behind Cairn's back (as a faulty disk or an intruder would), in the
    /// dialect of its backend.
    public static func tamper(_ storage: any Storage, sqlite: String, postgres: String) async throws {
        if let pg = storage as? PostgresStorage {
            try await pg.executeUnchecked(postgres)
        } else if let file = storage as? SQLiteStorage {
            let db = try DatabaseQueue(path: file.path)
            try await db.write { try $0.execute(sql: sqlite) }
        }
    }

    /// A second handle on the same store, with a pool of its own: what another server sharing
    /// the database would have. Only PostgreSQL stores can be shared.
    public static func reopen(_ storage: any Storage) async throws -> any Storage {
        guard let pg = storage as? PostgresStorage else { throw NotConfigured() }
        return try await PostgresStorage.connect(pg.location, migrate: false)
    }

    /// Closes what a store holds open (a PostgreSQL pool); nothing for SQLite.
    public static func close(_ storage: any Storage) {
        (storage as? PostgresStorage)?.close()
    }

    /// Every commit on main's first-parent history of a project, read in pages.
    public static func history(_ storage: any Storage, project name: String) async throws -> Set<String> {
        let repo = Repository(storage: storage)
        let project = try await repo.project(name, organization: repo.organization("default").id)
        var seen = Set<String>()
        var cursor: String? = nil
        repeat {
            let page = try await project.log(limit: 1000, cursor: cursor)
            for entry in page.commits { seen.insert(entry.commit.id.hex) }
            cursor = page.next
        } while cursor != nil
        return seen
    }
}
