import Foundation
import Testing

/// Pause points an MCP session (`mcp_session.py`) stops at until the test has acted on the
/// server: revoked a key, narrowed a grant, broken the store.
final class SessionPauses: Sendable {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-pauses-\(UUID().uuidString)")
    init() throws { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: dir) }

    /// The plan entry that stops the session at `name`.
    func at(_ name: String) -> [String: Any] {
        ["pause": ["signal": dir.appendingPathComponent("\(name).ready").path, "waitFor": dir.appendingPathComponent("\(name).go").path]]
    }

    /// Waits for the session to reach `name`, runs `act`, then lets the session go on.
    func when(_ name: String, _ act: () async throws -> Void) async throws {
        try await when(name, children: { _ in try await act() })
    }

    /// As `when(_:_:)`, `act` given the pids of the client's child processes (a stdio server's).
    func when(_ name: String, children act: ([Int32]) async throws -> Void) async throws {
        let path = dir.appendingPathComponent("\(name).ready").path
        for _ in 0..<12000 where !FileManager.default.fileExists(atPath: path) { try await Task.sleep(for: .milliseconds(50)) }
        try #require(FileManager.default.fileExists(atPath: path), "the session never reached pause \(name)")
        let children = (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").compactMap { Int32($0) } ?? []
        try await act(children)
        _ = FileManager.default.createFile(atPath: dir.appendingPathComponent("\(name).go").path, contents: nil)
    }
}

extension ServerHarness {
    /// The headers a streamable-HTTP MCP request carries.
    static let mcpAccept = ["Accept": "application/json, text/event-stream"]

    /// Opens an MCP session at `/v1/mcp?QUERY` by hand (an `initialize` request) and returns its id.
    func openMCPSession(_ query: String, token: String) async throws -> String {
        let initialize: [String: Any] = [
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": [
                "protocolVersion": "2025-06-18", "capabilities": [:] as [String: Any], "clientInfo": ["name": "test", "version": "1"],
            ],
        ]
        let opened = try await request("POST", "/v1/mcp?\(query)", token: token, json: initialize, headers: Self.mcpAccept)
        return try #require(opened.headers.first { $0.key.lowercased() == "mcp-session-id" }?.value, "\(opened.status) \(opened.text)")
    }
}
