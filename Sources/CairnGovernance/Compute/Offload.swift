import Foundation
import Synchronization

/// CPU-heavy work a caller sends (a matrix of routes, a batch of them, a routing search) runs on
/// a thread of its own, never on the executor that serves requests, so one large job cannot stall
/// other callers. The work is told when the calling task is cancelled (its request timed out or its
/// client went away) and is expected to stop soon after.
enum Offload {
    static func run<T: Sendable>(_ body: @escaping @Sendable (_ stopped: @Sendable () -> Bool) throws -> T) async throws -> T {
        let stop = Flag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                Thread.detachNewThread {
                    continuation.resume(with: Result { try body { stop.isSet } })
                }
            }
        } onCancel: {
            stop.set()
        }
    }

    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        var isSet: Bool { value.load(ordering: .relaxed) }
        func set() { value.store(true, ordering: .relaxed) }
    }
}
