import CairnCore

/// A branch as a listing shows it: where it is, who made it, and how it stands against its trunk.
public struct BranchSummary: Sendable, Codable, Equatable {
    public let name: String
    public let head: ObjectID
    /// Who created it and when (from the ref log); nil for a branch made before that was kept.
    public let author: String?
    public let created: String?
    /// The branch it is compared with (`main`), and how many commits each has that the other lacks.
    public let trunk: String
    public let ahead: Int
    public let behind: Int
    /// Archived branches are read-only and keep their history and ref log.
    public let archived: Bool
}

extension Project {
    /// Archived branches live under this prefix: no write, merge or branch creation may target it.
    public static let archivePrefix = "archive/"

    /// Archived branches are renamed under a prefix, which makes them read-only.
    public static func isArchived(_ branch: String) -> Bool { branch.hasPrefix(archivePrefix) }

    /// Every branch with its author and its divergence from `trunk`; the cost follows each
    /// branch's divergence, not the history's length.
    public func branchSummaries(trunk: String = "main") async throws -> [BranchSummary] {
        let trunkHead = try await storage.head(project: id, branch: trunk)
        var out: [BranchSummary] = []
        for (name, head) in try await storage.branches(project: id) {
            let created = try await storage.refCreation(project: id, branch: name)
            var ahead = 0
            var behind = 0
            if let trunkHead, name != trunk {
                let d = try await divergence(head, from: trunkHead)
                (ahead, behind) = (d.ahead, d.behind)
            }
            out.append(
                BranchSummary(
                    name: name,
                    head: head,
                    author: created?.principal,
                    created: created.map { Clock.rfc3339($0.timeMillis) },
                    trunk: trunk,
                    ahead: ahead,
                    behind: behind,
                    archived: Self.isArchived(name)
                )
            )
        }
        return out
    }

    /// Archives a branch: it moves, in one transaction, to `archive/<name>`, where it can be
    /// read, diffed and blamed but never written. Its ref log stays, so `name@T` still reads
    /// what it was at T.
    @discardableResult
    @_spi(StoreWrites) public func archiveBranch(
        _ name: String,
        principal: String,
        reason: String,
        audit: AuditHook? = nil
    ) async throws -> BranchInfo {
        guard name != "main" else { throw CairnError(.conflict, "'main' cannot be archived") }
        guard !Self.isArchived(name) else {
            throw CairnError(.branchArchived, "branch '\(name)' is already archived", details: ["branch": name])
        }
        let archived = Self.archivePrefix + name
        try Self.validateBranchName(archived)
        let head = try await headOf(branch: name)
        if try await storage.head(project: id, branch: archived) != nil {
            throw CairnError(
                .branchExists,
                "'\(archived)' already exists; delete it first or archive under another name",
                details: ["branch": archived]
            )
        }
        let now = Clock.nowMillis()
        var batch = WriteBatch()
        batch.refUpdates = [
            RefUpdate(
                project: id,
                branch: name,
                expected: head,
                new: nil,
                timeMillis: now,
                principal: principal,
                reason: "archived as \(archived): \(reason)"
            ),
            RefUpdate(
                project: id,
                branch: archived,
                expected: nil,
                new: head,
                timeMillis: now,
                principal: principal,
                reason: "archive of \(name): \(reason)"
            ),
        ]
        if let audit { batch.audit = [audit(CommitOutcome(commit: nil, head: head, branch: archived, changed: []))] }
        do { try await storage.apply(batch) } catch is RefCASFailure {
            throw CairnError(.conflict, "branch '\(name)' moved while being archived; try again", details: ["branch": name])
        }
        return BranchInfo(name: archived, head: head)
    }
}
