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

    /// The tokens a bucket holds at `now` (a new key starts full).
    private func level(_ b: Bucket?, at now: Double) -> Double {
        guard let b else { return burst }
        return min(burst, b.tokens + (now - b.last) * rate)
    }

    /// Whether `key` has a token left, without taking it.
    func hasToken(_ key: String) -> Bool {
        guard rate > 0 else { return true }
        let now = ProcessInfo.processInfo.systemUptime
        return buckets.withLock { level($0[key], at: now) >= 1 }
    }

    /// Takes one token for `key` if there is one. Buckets that have refilled are forgotten when
    /// many keys are tracked, so a stream of new keys (addresses) cannot grow memory without bound.
    @discardableResult
    func tryTake(_ key: String) -> Bool {
        guard rate > 0 else { return true }
        let now = ProcessInfo.processInfo.systemUptime
        return buckets.withLock { all in
            if all.count > 10_000 {
                all = all.filter { level($0.value, at: now) < burst }
            }
            var b = Bucket(tokens: level(all[key], at: now), last: now)
            defer { all[key] = b }
            guard b.tokens >= 1 else { return false }
            b.tokens -= 1
            return true
        }
    }

    /// Takes `amount` tokens for `key` after the fact (work already done), down to at most one
    /// burst in debt: the key waits for the refill before it may start more.
    func charge(_ key: String, _ amount: Double) {
        guard rate > 0 else { return }
        let now = ProcessInfo.processInfo.systemUptime
        buckets.withLock { all in
            all[key] = Bucket(tokens: max(-burst, level(all[key], at: now) - amount), last: now)
        }
    }

    /// Takes one token for `key`, or throws `rate_limited` saying when to retry.
    func take(_ key: String) throws {
        guard rate > 0 else { return }
        let now = ProcessInfo.processInfo.systemUptime
        let wait: Double? = buckets.withLock { all in
            var b = Bucket(tokens: level(all[key], at: now), last: now)
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
                .rateLimited,
                "too many requests for this credential; retry in \(seconds) s",
                details: ["retryAfterSeconds": String(seconds)]
            )
        }
    }
}

/// Counts refusals per key and says when to write the next summary: at most once per `interval`.
final class FloodCounter: Sendable {
    private struct Window {
        var since: Double
        var refused: Int
    }

    private let interval: Double
    private let windows = Mutex<[String: Window]>([:])

    init(interval: Double) { self.interval = interval }

    /// Counts one refusal; returns the number refused since the last summary when one is due now.
    func record(_ key: String) -> Int? {
        let now = ProcessInfo.processInfo.systemUptime
        return windows.withLock { all in
            if all.count > 10_000 { all = all.filter { now - $0.value.since < interval } }
            guard var w = all[key] else {
                all[key] = Window(since: now, refused: 0)
                return 1
            }
            w.refused += 1
            if now - w.since >= interval {
                let n = w.refused
                all[key] = Window(since: now, refused: 0)
                return n
            }
            all[key] = w
            return nil
        }
    }
}
