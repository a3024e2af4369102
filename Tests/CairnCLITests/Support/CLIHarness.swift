import Foundation
import Testing

/// Runs the real `cairn` binary (built next to the test bundle) against a temporary data folder.
final class CLIHarness: @unchecked Sendable {
    let data: URL
    let project: String

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

    init(project: String = "city", initialize: Bool = true) throws {
        data = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-cli-\(UUID().uuidString)")
        self.project = project
        if initialize {
            #expect(run("init").status == 0)
            #expect(run("project", "create", project).status == 0)
        }
    }

    deinit { try? FileManager.default.removeItem(at: data) }

    var storePath: String { data.appendingPathComponent("cairn.sqlite").path }

    @discardableResult
    func run(_ args: String..., stdin: String? = nil) -> Result { run(args, stdin: stdin) }

    func run(_ args: [String], stdin: String? = nil, binary: String = "cairn") -> Result {
        let process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent(binary)
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["CAIRN_DATA"] = data.path
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
        return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
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
