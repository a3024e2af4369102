import CairnTestSupport
import Foundation

/// An MCP session of the official Python client (`mcp_session.py`) going on while the test acts
/// on the server (revokes a key, kills the process). The plan travels as JSON bytes, which are
/// `Sendable`, into the task that waits for the client.
struct BackgroundSession: Sendable {
    private let task: Task<Data, any Error>

    init(_ plan: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: plan)
        task = Task {
            let answer = try await PythonReference.run(
                "Tests/CairnCLITests/Support/python/mcp_session.py",
                try JSONSerialization.jsonObject(with: data)
            )
            return try JSONSerialization.data(withJSONObject: answer)
        }
    }

    /// The client's answer, once its session is over.
    func answer() async throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try await task.value) as? [String: Any] ?? [:]
    }
}
