import Foundation
import Synchronization

/// The time the scheduler reads and waits on. Injected, so tests move time across a DST change
/// or a week of downtime in an instant, and assert what fired.
public protocol WorkflowClock: Sendable {
    func now() -> Date
    /// Waits until `instant` (or returns early when the clock is moved, for a manual clock);
    /// throws when the task is cancelled.
    func sleep(until instant: Date) async throws
}

/// The wall clock.
public struct SystemWorkflowClock: WorkflowClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(until instant: Date) async throws {
        let seconds = instant.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .milliseconds(Int64(min(seconds, 86_400) * 1000))) }
    }
}

/// A clock that moves only when told: for tests of schedules.
public final class ManualWorkflowClock: WorkflowClock {
    private let instant: Mutex<Date>

    public init(_ start: Date) { instant = Mutex(start) }

    public func now() -> Date { instant.withLock { $0 } }

    /// Moves the clock to `date`.
    public func set(_ date: Date) { instant.withLock { $0 = date } }

    public func sleep(until target: Date) async throws {
        while now() < target {
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
