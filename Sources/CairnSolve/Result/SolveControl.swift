import Foundation
import Synchronization

/// The limits a solve runs under and the switch that cancels it, shared between the caller and
/// the thread doing the work. A solver polls it (GLPK from its branch-and-bound callback, the
/// routing search every iteration).
public final class SolveControl: Sendable {
    public let timeLimit: Double
    /// The relative optimality gap at which a MIP search may stop (0: prove optimality).
    public let gapTolerance: Double
    private let cancelFlag = Atomic<Bool>(false)

    public init(timeLimit: Double = 60, gapTolerance: Double = 0) {
        self.timeLimit = timeLimit
        self.gapTolerance = gapTolerance
    }

    /// Asks the solver to stop at its next check; it answers with the best it has.
    public func cancel() { cancelFlag.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { cancelFlag.load(ordering: .relaxed) }
}
