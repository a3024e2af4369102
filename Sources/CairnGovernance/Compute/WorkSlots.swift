import CairnCore
import Synchronization

/// How many heavy jobs (solves, batches of routes, matrices) may run at once: per credential and
/// on the whole server. A rate limit bounds how often a caller may start work, not how much of it
/// runs together; a caller that starts many minute-long solves would otherwise hold every core
/// and starve everyone else. Past either bound the caller is told to retry (429) and nothing runs.
final class WorkSlots: Sendable {
    private struct State {
        var total = 0
        var byKey: [String: Int] = [:]
    }

    let perCredential: Int
    let server: Int
    private let state = Mutex(State())

    init(perCredential: Int, server: Int) {
        self.perCredential = perCredential
        self.server = server
    }

    /// Takes a slot for `key`, or throws `rate_limited` naming which bound was reached.
    func take(_ key: String) throws {
        let what = "heavy jobs (solves, route batches, matrices)"
        let refusal: String? = state.withLock { s in
            if perCredential > 0, s.byKey[key, default: 0] >= perCredential {
                return "\(perCredential) \(what) already running for this credential; retry when one ends"
            }
            if server > 0, s.total >= server {
                return "the server is running its most \(what) (\(server)); retry shortly"
            }
            s.total += 1
            s.byKey[key, default: 0] += 1
            return nil
        }
        if let refusal {
            throw CairnError(.rateLimited, refusal, details: ["retryAfterSeconds": "1"])
        }
    }

    func release(_ key: String) {
        state.withLock { s in
            s.total -= 1
            let left = s.byKey[key, default: 1] - 1
            s.byKey[key] = left > 0 ? left : nil
        }
    }

    /// Runs `body` holding a slot for `key`.
    func holding<T>(_ key: String, _ body: () async throws -> T) async throws -> T {
        try take(key)
        defer { release(key) }
        return try await body()
    }
}
