import CairnCore
import Foundation
import Synchronization

/// A token bucket per credential: `rate` requests a second on average, bursts up to `burst`.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var last: Double
    }

    private let rate: Double
    private let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    /// Takes one token for `key`, or throws `rate_limited` saying when to retry.
    func take(_ key: String) throws {
        guard rate > 0 else { return }
        let now = ProcessInfo.processInfo.systemUptime
        let wait: Double? = buckets.withLock { all in
            var b = all[key] ?? Bucket(tokens: burst, last: now)
            b.tokens = min(burst, b.tokens + (now - b.last) * rate)
            b.last = now
            defer { all[key] = b }
            if b.tokens >= 1 {
                b.tokens -= 1
                return nil
            }
            return (1 - b.tokens) / rate
        }
        if let wait {
            let seconds = max(1, Int(wait.rounded(.up)))
            throw CairnError(
                .rateLimited, "too many requests for this credential; retry in \(seconds) s", details: ["retryAfterSeconds": String(seconds)])
        }
    }
}
