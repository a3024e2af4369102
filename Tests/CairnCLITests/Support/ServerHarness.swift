import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `cairn serve` on a loopback port of its choosing, with a fresh data folder, and a
/// plain HTTP client for it.
final class ServerHarness: @unchecked Sendable {
    let cli: CLIHarness
    let process = Process()
    let base: String
    private let output = OutputBox()
    private let errors = OutputBox()

    struct Reply {
        let status: Int
        let body: Data
        var headers: [String: String] = [:]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    /// `databaseURL` shares an existing PostgreSQL store (several servers on one database);
    /// `sharing` starts on another harness's store (its data folder, or its database): a restart.
    /// `captureErrors` keeps the server's standard error for `errorOutput` (else it is discarded).
    init(
        extraArgs: [String] = [],
        environment: [String: String] = [:],
        omitRateLimit: Bool = false,
        databaseURL: String? = nil,
        captureErrors: Bool = false,
        sharing: CLIHarness? = nil
    ) async throws {
        cli = try sharing ?? CLIHarness(project: "unused", initialize: false, databaseURL: databaseURL)
        process.executableURL = CLIHarness.binDirectory.appendingPathComponent("cairn")
        process.arguments = ["serve", "--data", cli.data.path, "--port", "0"] + (omitRateLimit ? [] : ["--rate-limit", "0"]) + extraArgs
        var env = ProcessInfo.processInfo.environment
        if let url = cli.databaseURL { env["CAIRN_DATABASE_URL"] = url }
        env.merge(environment) { $1 }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        if captureErrors {
            let errorPipe = Pipe()
            process.standardError = errorPipe
            let errors = self.errors
            errorPipe.fileHandleForReading.readabilityHandler = { errors.append(String(decoding: $0.availableData, as: UTF8.self)) }
        } else {
            process.standardError = FileHandle.nullDevice
        }
        let output = self.output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = String(decoding: handle.availableData, as: UTF8.self)
            output.append(chunk)
        }
        try process.run()
        var port: String?
        var scheme = "http"
        for _ in 0..<600 {
            let text = output.text
            if let range = text.range(of: "cairn listening on http://127.0.0.1:") ?? text.range(of: "cairn listening on https://127.0.0.1:")
            {
                port = String(text[range.upperBound...].prefix { $0.isNumber })
                if text[range].contains("https") { scheme = "https" }
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard let port, !port.isEmpty else {
            process.terminate()
            throw CairnTestError("the server did not start: \(output.text)")
        }
        base = "\(scheme)://127.0.0.1:\(port)"
    }

    deinit {
        if process.isRunning {
            process.terminate()
            // A graceful shutdown that hangs is a bug the test run reports, not waits on forever.
            // 30 s, not less: with the whole suite running on 2 cores, one shutdown once took
            // over 10 s (it passed alone and in the next full run).
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                Issue.record("cairn serve did not stop within 30 s of SIGTERM")
            }
            process.waitUntilExit()
        }
    }

    var startupOutput: String { output.text }
    var errorOutput: String { errors.text }

    /// Mints an admin key for an organization offline, as the README says.
    func adminToken(org: String = "default") throws -> String {
        let r = cli.run(["admin", "token", "--json", "--org", org])
        guard r.status == 0, let token = r.object["token"] as? String else {
            throw CairnTestError("admin token failed: \(r.stderr) \(r.stdout)")
        }
        return token
    }

    func request(
        _ method: String,
        _ path: String,
        token: String? = nil,
        json: Any? = nil,
        headers: [String: String] = [:]
    ) async throws -> Reply {
        var request = URLRequest(url: URL(string: base + path)!)
        // The whole suite runs many servers on two cores: a slow answer is not a failure here.
        request.timeoutInterval = 300
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (k, v) in http?.allHeaderFields ?? [:] { if let k = k as? String, let v = v as? String { headers[k] = v } }
        return Reply(status: http?.statusCode ?? 0, body: data, headers: headers)
    }
}

/// Text a child process printed, gathered from a pipe's handler thread.
final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = ""

    func append(_ s: String) { lock.withLock { buffer += s } }
    var text: String { lock.withLock { buffer } }
}

struct CairnTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// The test virtualenv's Python (made by scripts/test.sh), which has pyjwt and cryptography.
func testPython() throws -> String {
    if let p = ProcessInfo.processInfo.environment["CAIRN_TEST_PYTHON"] { return p }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let venv = root.appendingPathComponent(".venv/bin/python3").path
    guard FileManager.default.fileExists(atPath: venv) else {
        throw CairnTestError("no test virtualenv at \(venv): run scripts/test.sh, which creates it with pyjwt and cryptography")
    }
    return venv
}
