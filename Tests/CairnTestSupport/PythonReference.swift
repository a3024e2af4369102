import Foundation

/// Reference implementations from PyPI (networkx, shapely, geographiclib, HiGHS, OR-Tools …),
/// run as scripts in the test virtualenv that scripts/test.sh makes: a JSON query on stdin, a
/// JSON answer on stdout.
public enum PythonReference {
    /// The checkout's root (this file is Tests/CairnTestSupport/PythonReference.swift).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func executable() throws -> String {
        if let p = ProcessInfo.processInfo.environment["CAIRN_TEST_PYTHON"] { return p }
        let venv = root.appendingPathComponent(".venv/bin/python3").path
        guard FileManager.default.fileExists(atPath: venv) else { throw Failure(description: "no test virtualenv: run scripts/test.sh") }
        return venv
    }

    /// Runs `script` (a path from the checkout's root). The process is waited for on a thread of
    /// its own, never on the test's concurrency pool: a test that waits on a reference while it
    /// also acts (a session paused for the test to revoke a key) must not starve, on a machine
    /// whose few pool threads are busy with other suites. Its stderr goes to a file (a pipe
    /// nobody reads would stall it when full); a failure quotes the file's end.
    public static func run(_ script: String, _ query: Any) async throws -> [String: Any] {
        let input = try JSONSerialization.data(withJSONObject: query)
        let executable = try executable()
        let data: Data = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try blockingRun(executable, script, input) })
            }
        }
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// The same, waited for on the calling thread: for tests that do nothing else meanwhile
    /// (a reference computation checked against Cairn's answer).
    public static func runBlocking(_ script: String, _ query: Any) throws -> [String: Any] {
        let data = try blockingRun(try executable(), script, try JSONSerialization.data(withJSONObject: query))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    private static func blockingRun(_ executable: String, _ script: String, _ query: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [root.appendingPathComponent(script).path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-python-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        input.fileHandleForWriting.write(query)
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let tail = (try? String(contentsOf: errors, encoding: .utf8)).map { String($0.suffix(2000)) } ?? ""
            throw Failure(description: "the reference \(script) failed (exit \(process.terminationStatus)):\n\(tail)")
        }
        return data
    }
}
