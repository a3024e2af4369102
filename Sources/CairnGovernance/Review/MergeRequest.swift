import CairnCore
import CairnStore

/// A proposal to merge one branch into another, with its review. Stored as one JSON file per
/// request in the organization's workflow project, so every change to it is a commit: its whole
/// history (who commented, approved, merged, when) can be read back, diffed and audited.
public struct MergeRequest: Sendable, Codable, Equatable {
    /// Open until merged or closed; a merged or closed request is never reopened.
    public enum State: String, Sendable, Codable, CaseIterable {
        case open, merged, closed
    }

    /// A reviewer's verdict, bound to the source head it was given at.
    public enum Verdict: String, Sendable, Codable, CaseIterable {
        case approve
        case requestChanges = "request_changes"
        case reject
    }

    /// One review decision, bound to the source head the reviewer saw.
    public struct Review: Sendable, Codable, Equatable {
        /// A hash of what was reviewed, by whom, when: the id a merge commit lists among its
        /// approvals, so lineage leads from a merged value back to this sign-off.
        public let id: String
        public let reviewer: String
        public let verdict: Verdict
        public let rationale: String
        /// The source head when the review was given: an approval counts only while it is still the head.
        public let commit: String
        public let time: String
    }

    /// A comment on a request, optionally on one path.
    public struct Comment: Sendable, Codable, Equatable {
        public let author: String
        public let body: String
        public let path: String?
        public let time: String
    }

    /// The last merge attempt that stopped at conflicts, kept until every hunk is resolved.
    public struct Attempt: Sendable, Codable, Equatable {
        public let base: String
        public let ours: String
        public let theirs: String
        public let conflicts: [FileConflict]
        public let by: String
        public let time: String
    }

    public let number: Int
    public let project: String
    public let source: String
    public let target: String
    public var title: String
    public var description: String?
    public let author: String
    public let created: String
    public var state: State
    public var reviews: [Review]
    public var comments: [Comment]
    public var attempt: Attempt?
    /// Settlements of the attempt's hunks, path → pointer → resolution.
    public var resolutions: [String: [String: MergeResolution]]
    public var mergeCommit: String?
    /// The merge base and source head that were merged: what the merged request's diff shows.
    public var mergeBase: String?
    public var mergedHead: String?
    public var closedBy: String?
    public var updated: String
    /// `write` when the Gateway opened it for a write to a protected branch.
    public let origin: String?

    /// The reviews that still count: each reviewer's latest, and only those given at `head`.
    public func currentReviews(head: String) -> [Review] {
        var latest: [String: Review] = [:]
        for r in reviews { latest[r.reviewer] = r }
        return latest.values.filter { $0.commit == head }.sorted { $0.time < $1.time }
    }
}

/// A merge request as a surface shows it: the stored record plus its standing now.
public struct MergeRequestView: Sendable, Codable, Equatable {
    public let request: MergeRequest
    /// `open`, `approved` (enough approvals at the current source head, no change requested),
    /// `merged` or `closed`.
    public let status: String
    public let sourceHead: String?
    /// Approvals at the current source head from eligible reviewers, and how many the target needs (0: unprotected).
    public let approvals: Int
    public let requiredApprovals: Int
    /// Approvals given at an earlier source head: a newer commit voided them.
    public let voided: Int
    /// Who wrote the source's own commits: none of them may approve it.
    public let sourceAuthors: [String]
    /// Hunks of the last attempt not yet resolved.
    public let unresolved: Int
}

/// The entity-level difference a merge request would make.
public struct MergeRequestDiff: Sendable, Codable, Equatable {
    /// One changed entity of a request's diff, by path, with its JSON changes.
    public struct Entity: Sendable, Codable, Equatable {
        public let path: String
        /// `added`, `modified`, `removed`, and for GeoJSON whose geometry changed, `moved`.
        public let change: String
        public let members: [String]?
    }
    public let base: String
    public let head: String
    public let entities: [Entity]
    public let next: String?
}
