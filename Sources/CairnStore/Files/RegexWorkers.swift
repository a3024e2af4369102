import CairnCore
import Dispatch
import Foundation
import Synchronization

/// Threads of their own for regex work, so a costly Grep never occupies the concurrency pool
/// that serves every other request.
///
/// A PCRE2 search is a synchronous loop: on the shared pool, a few of them leave nothing to
/// answer `/healthz`, and no timeout can fire. Here each job runs on one of a few serial
/// dispatch queues (each has a thread of its own while busy), jobs queue in order, and a job
/// checks its `CancelFlag` between files, so a cancelled or timed-out request stops within one
/// file's bounded matching work.
public final class RegexWorkers: Sendable {
    /// Leaves at least one core to the request pool on a small machine.
    public static let shared = RegexWorkers(threads: max(1, ProcessInfo.processInfo.activeProcessorCount - 1))

    private let queues: [DispatchQueue]
    private let next = Atomic<Int>(0)

    init(threads: Int) {
        queues = (0..<max(1, threads)).map { DispatchQueue(label: "cairn.regex.\($0)", qos: .utility) }
    }

    /// Runs `work` on a regex thread; cancelling the calling task sets the flag `work` checks.
    func run<T: Sendable>(_ work: @escaping @Sendable (CancelFlag) throws -> T) async throws -> T {
        let flag = CancelFlag()
        let queue = queues[next.wrappingAdd(1, ordering: .relaxed).oldValue % queues.count]
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                queue.async {
                    if flag.isSet {
                        continuation.resume(throwing: CancellationError())
                        return
                    }
                    continuation.resume(with: Result { try work(flag) })
                }
            }
        } onCancel: {
            flag.set()
        }
    }
}

/// Set when the task waiting for a job is cancelled.
final class CancelFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

/// How much matching one Grep may do in all: a deadline on the regex threads' wall time, from
/// the first file searched. Shared by the request's chunks.
public struct GrepBudget: Sendable {
    public let seconds: Double
    let deadline: UInt64

    public init(seconds: Double) {
        self.seconds = seconds
        deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, seconds) * 1e9)
    }

    func check(_ flag: CancelFlag) throws {
        if flag.isSet { throw CancellationError() }
        if DispatchTime.now().uptimeNanoseconds > deadline {
            throw CairnError(
                .limitExceeded, "the search needed more than \(Int(seconds)) s of matching work; narrow it (a glob, a simpler pattern)",
                details: ["limitSeconds": String(Int(seconds))])
        }
    }
}
