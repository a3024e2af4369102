import Synchronization

/// The review area: merge requests, branch protection and the approval queue (DESIGN.md §4,
/// "approval gate"). The write path asks it whether a change may land directly, becomes a merge
/// request, or waits in the queue; people review and decide here. It keeps which merge requests
/// hold live approvals (to announce the ones a new commit voids), and applies what is approved
/// through the core's write path.
public struct ReviewArea: Sendable {
    /// The Gateway whose core this area calls.
    let core: Gateway

    var caches: Caches { core.reviewCaches }

    /// What the review area remembers between calls; one per Gateway.
    final class Caches: Sendable {
        /// Per project, the source branches of open merge requests that hold approvals (branch →
        /// request numbers), so a commit that voids them is announced; loaded once per project.
        let approvedSources = Mutex<[Gateway.ProjectKey: [String: Set<Int>]]>([:])
    }
}

extension Gateway {
    /// Merge requests, protection and the approval queue (see `ReviewArea`).
    public var review: ReviewArea { ReviewArea(core: self) }
}
