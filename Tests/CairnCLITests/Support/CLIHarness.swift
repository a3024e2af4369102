import CairnPostgres
import CairnSQLite
import CairnStore
import CairnTestSupport
import Foundation
import Testing

/// Runs the real `cairn` binary (built next to the test bundle) against a temporary data
/// folder, and on the PostgreSQL pass (see `TestBackend`) against a store of its own there.
final class CLIHarness: @unchecked Sendable {
    let data: URL
    let project: String
    /// The store's database URL on the PostgreSQL pass (its password comes from the environment).
    let databaseURL: String?

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String

        /// Standard output parsed as JSON.
        var json: Any { (try? JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])) ?? NSNull() }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    }

    static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["CAIRN_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the runner is `.build/debug/cairnPackageTests.xctest`; on macOS it may sit deeper.
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("cairn").path) && url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
        }
        return url
    }

    static var sharedData: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")
    }

    init(project: String = "city", initialize: Bool = true, databaseURL: String? = nil) throws {
        data = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-cli-\(UUID().uuidString)")
        self.project = project
        self.databaseURL = try databaseURL ?? (TestBackend.isPostgres ? TestBackend.freshPostgresURL() : nil)
        if initialize {
            #expect(run("init").status == 0)
            #expect(run("project", "create", project).status == 0)
        }
    }

    deinit { try? FileManager.default.removeItem(at: data) }

    var storePath: String { data.appendingPathComponent("cairn.sqlite").path }

    /// What a child process needs in its environment to open this store (a client that starts
    /// `cairn` with an environment of its own, as the MCP client does).
    var storeEnvironment: [String: String] {
        var env = ["CAIRN_DATA": data.path]
        if let databaseURL {
            env["CAIRN_DATABASE_URL"] = databaseURL
            env["CAIRN_DATABASE_PASSWORD_FILE"] = ProcessInfo.processInfo.environment["CAIRN_DATABASE_PASSWORD_FILE"]
        }
        return env
    }

    /// The store the harness's commands use, as a command line names it (file or URL).
    var store: String { databaseURL ?? storePath }

    /// Opens the harness's store in this process, on whichever backend the pass runs.
    func openStorage() async throws -> any Storage {
        if let databaseURL {
            return try await PostgresStorage.connect(PostgresLocation(url: databaseURL, password: TestBackend.password()), migrate: false)
        }
        return try SQLiteStorage(path: storePath)
    }

    /// Runs SQL on the store behind Cairn's back with the backend's own client (sqlite3 or psql).
    func tamper(sqlite: String, postgres: String) throws -> Int32 {
        if let databaseURL { return try TestBackend.psql(postgres, storeURL: databaseURL) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [storePath, sqlite]
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @discardableResult
    func run(_ args: String..., stdin: String? = nil) -> Result { run(args, stdin: stdin) }

    func run(_ args: [String], stdin: String? = nil, binary: String = "cairn") -> Result {
        let process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent(binary)
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["CAIRN_DATA"] = data.path
        if let databaseURL { env["CAIRN_DATABASE_URL"] = databaseURL }
        env["CAIRN_PROJECT"] = project
        env["CAIRN_AUTHOR"] = "cli-tester"
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        do { try process.run() } catch {
            Issue.record("cannot start \(binary): \(error)")
            return Result(status: -1, stdout: "", stderr: "")
        }
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self)
        )
    }

    /// Runs with `--json` and expects success; returns the parsed output.
    func json(_ args: String...) -> Any {
        let r = run(args + ["--json"])
        #expect(r.status == 0, "cairn \(args.joined(separator: " ")) failed: \(r.stdout) \(r.stderr)")
        return r.json
    }

    /// Runs with `--json`, expects exit 1 with the error `code`, and returns the result.
    @discardableResult
    func fails(_ code: String, _ args: String..., stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> Result {
        let r = run(args + ["--json"], stdin: stdin)
        #expect(r.status == 1, "expected failure of \(args)", sourceLocation: sourceLocation)
        #expect(r.errorCode == code, "expected \(code), got \(r.stdout)", sourceLocation: sourceLocation)
        return r
    }
}
