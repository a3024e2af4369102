import CairnCore
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Threads of their own for regex work, so a costly Grep never occupies the concurrency pool
/// that serves every other request.
///
/// A PCRE2 search is a synchronous loop: on the shared pool, a few of them leave nothing to
/// answer `/healthz`, and no timeout can fire. Here jobs run on dedicated threads (one per core,
/// so an idle server searches at full speed) at a lower scheduling priority (nice 10), so the
/// threads serving requests always win the CPU from them; jobs queue in order, and a job checks
/// its `CancelFlag` between files, so a cancelled or timed-out request stops within one file's
/// bounded matching work. Threads are made by hand because neither Swift concurrency nor
/// Dispatch lets a worker's priority be lowered on Linux.
public final class RegexWorkers: Sendable {
    public static let shared = RegexWorkers(threads: ProcessInfo.processInfo.activeProcessorCount, nice: 10)

    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let ready = DispatchSemaphore(value: 0)

    init(threads: Int, nice: Int32) {
        for i in 0..<max(1, threads) {
            let thread = Thread { [self] in
                // On Linux the nice value belongs to each thread, and `who` 0 is the calling thread.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
                while true {
                    ready.wait()
                    let job = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                    job?()
                }
            }
            thread.name = "cairn-regex-\(i)"
            thread.start()
        }
    }

    /// Runs `work` on a regex thread; cancelling the calling task sets the flag `work` checks and
    /// answers the caller at once with `CancellationError`. The thread finishes the file it is on
    /// in its own time: at nice 10 on a saturated machine that can take seconds, and a timed-out
    /// request must not wait for it.
    func run<T: Sendable>(_ work: @escaping @Sendable (CancelFlag) throws -> T) async throws -> T {
        let flag = CancelFlag()
        let waiter = Waiter<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                guard waiter.wait(continuation) else { return }
                jobs.withLock {
                    $0.append {
                        if flag.isSet {
                            waiter.finish(.failure(CancellationError()))
                            return
                        }
                        waiter.finish(Result { try work(flag) })
                    }
                }
                ready.signal()
            }
        } onCancel: {
            flag.set()
            waiter.finish(.failure(CancellationError()))
        }
    }
}

/// The one continuation of a job, resumed exactly once: by the job's end or by cancellation,
/// whichever comes first (cancellation may even come before the continuation exists).
private final class Waiter<T: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<T, any Error>)
        case cancelled, done
    }
    private let state = Mutex(State.idle)

    /// Keeps `continuation` for `finish`; false (having resumed it) when already cancelled.
    func wait(_ continuation: CheckedContinuation<T, any Error>) -> Bool {
        let cancelled = state.withLock { state -> Bool in
            if case .cancelled = state { return true }
            state = .waiting(continuation)
            return false
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    func finish(_ result: Result<T, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<T, any Error>? in
            switch state {
            case .waiting(let c):
                state = .done
                return c
            case .idle:
                state = .cancelled
                return nil
            case .cancelled, .done:
                return nil
            }
        }
        continuation?.resume(with: result)
    }
}

/// Set when the task waiting for a job is cancelled.
final class CancelFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

/// How much matching one Grep may do in all: the time its jobs spend matching on the regex
/// threads, added up across its chunks (time waiting in the queue behind other work is not
/// counted). Shared by the request's chunks; the Gateway reads `seconds` afterwards to charge
/// the caller's search time.
public final class GrepBudget: Sendable {
    public let limit: Double
    private let spent = Atomic<UInt64>(0)

    public init(seconds: Double) { limit = seconds }

    /// Matching time used so far.
    public var seconds: Double { Double(spent.load(ordering: .relaxed)) / 1e9 }

    /// Adds a finished stretch of matching.
    func charge(since start: UInt64) {
        spent.wrappingAdd(DispatchTime.now().uptimeNanoseconds &- start, ordering: .relaxed)
    }

    /// Throws when the request was cancelled, or when what was spent before this job plus this
    /// job's time so far passes the limit.
    func check(_ flag: CancelFlag, jobStart: UInt64) throws {
        if flag.isSet { throw CancellationError() }
        let used = spent.load(ordering: .relaxed) &+ (DispatchTime.now().uptimeNanoseconds &- jobStart)
        if Double(used) / 1e9 > limit {
            throw CairnError(
                .limitExceeded,
                "the search needed more than \(Int(limit)) s of matching work; narrow it (a glob, a simpler pattern)",
                details: ["limitSeconds": String(Int(limit))]
            )
        }
    }
}
