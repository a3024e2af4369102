import CairnTestSupport
import Foundation
import Testing

/// The README, as a newcomer runs it: every `sh` block after the set-up one, in order, in one
/// shell (`set -e`, so the first failing command fails the test), from a fresh folder laid out
/// like a checkout (its `scripts`, `examples` and `.build` are the repository's) with the shared
/// data beside it.
///
/// The set-up block is left out: it is the two commands CI itself runs (`scripts/test.sh` is
/// this very run, `scripts/serve.sh` serves until stopped), and the first block run here starts
/// the server the same way `scripts/serve.sh` does. The server gets a free port through
/// `CAIRN_PORT`, which the README reads; everything started in the background is stopped at the end.
@Suite struct ReadmeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `sh` blocks of the README, in order.
    static func blocks() throws -> [String] {
        let text = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```sh" {
                current = []
            } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    @Test("every command block of the README runs, in order, against a fresh server")
    func readmeRunsTopToBottom() async throws {
        // The README's PostgreSQL block starts a cluster of its own; one pass is enough.
        guard !TestBackend.isPostgres else { return }
        let blocks = try Self.blocks()
        #expect(blocks.first?.contains("scripts/test.sh") == true, "the first block should be the set-up")
        let runnable = Array(blocks.dropFirst())
        #expect(runnable.count >= 7)

        let base = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-readme-\(UUID().uuidString)")
        let checkout = base.appendingPathComponent("main")
        try FileManager.default.createDirectory(at: checkout, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        for name in ["scripts", "examples", ".build", "README.md"] {
            try FileManager.default.createSymbolicLink(
                at: checkout.appendingPathComponent(name),
                withDestinationURL: Self.root.appendingPathComponent(name)
            )
        }
        try FileManager.default.createSymbolicLink(
            at: base.appendingPathComponent("shared"),
            withDestinationURL: CLIHarness.sharedData.deletingLastPathComponent()
        )

        let port = try Self.freePort()
        var script = """
            set -euxo pipefail
            trap 'status=$?; for p in $(jobs -p); do kill "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; [ -n "${PG:-}" ] && scripts/pg-cluster.sh stop "$PG"; exit $status' EXIT
            export CAIRN_PORT=\(port)

            """
        for (i, block) in runnable.enumerated() {
            script += "echo '>>> README block \(i + 2)' >&2\n" + block + "\n"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = checkout
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("CAIRN_") && !["CAIRN_TEST_PYTHON", "CAIRN_TEST_RUN_ID"].contains(key) { env[key] = nil }
        env["USER"] = "newcomer"
        process.environment = env
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-readme-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        let handle = try FileHandle(forWritingTo: out)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(600)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
        if process.isRunning {
            process.terminate()
            Issue.record("the README did not finish in 10 minutes")
        }
        process.waitUntilExit()
        try handle.close()
        let log = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        let failedBlock = log.components(separatedBy: ">>> README block ").last?.prefix { $0.isNumber } ?? "?"
        #expect(
            process.terminationStatus == 0,
            "README block \(failedBlock) failed (exit \(process.terminationStatus)):\n\(log.suffix(4000))"
        )
        #expect(log.contains(">>> README block \(runnable.count + 1)"), "not every block ran:\n\(log.suffix(2000))")
    }

    /// A port that is free now, with the two above it free too (the README's second and third servers).
    static func freePort() throws -> Int {
        func bindable(_ port: Int) -> Int? {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafeMutablePointer(to: &address) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            return ok ? Int(UInt16(bigEndian: address.sin_port)) : nil
        }
        for _ in 0..<50 {
            guard let port = bindable(0), port < 65_000, bindable(port + 1) != nil, bindable(port + 2) != nil else { continue }
            return port
        }
        throw CairnTestError("no three free ports in a row")
    }
}
