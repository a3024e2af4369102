import CairnCore

/// A commit a ref resolved to, and the branch it came from, if any.
public struct ResolvedRef: Sendable, Codable, Equatable {
    public let commit: ObjectID
    public let branch: String?
}

/// A branch and its head.
public struct BranchInfo: Sendable, Codable, Equatable {
    public let name: String
    public let head: ObjectID
}

/// One project's versioned tree: files, branches and history.
///
/// Refs are a branch name, a commit id (or an unambiguous prefix of at least 4 hex digits),
/// or `branch@<RFC 3339 time>` for the branch as it was at that instant.
public struct Project: Sendable {
    public let record: ProjectRecord
    let repository: Repository

    var storage: any Storage { repository.storage }
    var id: Int64 { record.id }
    var reader: TreeReader { TreeReader(storage: storage, project: id, cache: repository.nodes) }

    // MARK: Refs

    /// Resolves a ref (a branch, a commit id or prefix, `branch@time`, `ref~n`) to a commit.
    public func resolve(_ ref: String) async throws -> ResolvedRef {
        guard !ref.isEmpty else { throw CairnError(.invalidRef, "a ref cannot be empty") }
        if let tilde = ref.lastIndex(of: "~"), tilde != ref.startIndex {
            // `REF~N`: the N-th first-parent ancestor (N defaults to 1), found through the skip index.
            let countText = ref[ref.index(after: tilde)...]
            guard let n = countText.isEmpty ? 1 : Int(countText), n >= 0 else {
                throw CairnError(.invalidRef, "'\(ref)': after '~' comes a number of generations", details: ["ref": ref])
            }
            let base = try await resolve(String(ref[..<tilde]))
            let start = try await indexEntry(base.commit)
            guard
                let target = try await Ancestry.ancestor(of: start, atGeneration: start.generation - n, index: { try await indexEntry($0) })
            else {
                throw CairnError(.unknownRef, "'\(ref)' goes back past the first commit", details: ["ref": ref])
            }
            return ResolvedRef(commit: target.id, branch: nil)
        }
        if let at = ref.lastIndex(of: "@") {
            let branch = String(ref[..<at])
            let timeText = String(ref[ref.index(after: at)...])
            guard let time = Clock.parseRFC3339(timeText) else {
                throw CairnError(
                    .invalidRef,
                    "'\(timeText)' in '\(ref)' is not an RFC 3339 time (e.g. 2026-11-26T16:09:28Z)",
                    details: ["ref": ref]
                )
            }
            return try await resolve(branch: branch, at: time, ref: ref)
        }
        // Branch names are never all hex (see `validateBranchName`), so a hex ref of 4+ digits
        // is a commit and needs no branch lookup; a full id is one point read.
        if let full = ObjectID(hex: ref.lowercased()), try await storage.commitIndex(project: id, id: full) != nil {
            return ResolvedRef(commit: full, branch: nil)
        }
        if let head = try await storage.head(project: id, branch: ref) {
            return ResolvedRef(commit: head, branch: ref)
        }
        if let commit = try await commitByPrefix(ref) {
            return ResolvedRef(commit: commit, branch: nil)
        }
        throw CairnError(.unknownRef, "no branch or commit '\(ref)' in project '\(record.name)'", details: ["ref": ref])
    }

    private func resolve(branch: String, at time: Millis, ref: String) async throws -> ResolvedRef {
        if let entry = try await storage.refLogEntry(project: id, branch: branch, atOrBefore: time) {
            guard let commit = entry.new else {
                throw CairnError(
                    .unknownRef,
                    "branch '\(branch)' was deleted at \(Clock.rfc3339(entry.timeMillis)), before \(Clock.rfc3339(time))",
                    details: ["ref": ref]
                )
            }
            return ResolvedRef(commit: commit, branch: branch)
        }
        let log = try await storage.refLog(project: id, branch: branch, beforeSeq: nil, limit: Int.max)
        guard let first = log.last else {
            throw CairnError(.unknownRef, "no branch '\(branch)' in project '\(record.name)'", details: ["ref": ref])
        }
        throw CairnError(
            .beforeFirstCommit,
            "branch '\(branch)' did not exist yet at \(Clock.rfc3339(time)); its first commit is at \(Clock.rfc3339(first.timeMillis))",
            details: ["ref": ref, "first": Clock.rfc3339(first.timeMillis)]
        )
    }

    private func commitByPrefix(_ text: String) async throws -> ObjectID? {
        let hex = text.lowercased()
        guard hex.count >= 4, hex.count <= 64, hex.allSatisfy({ $0.isHexDigit }) else { return nil }
        let low = ObjectID(hex: hex.padding(toLength: 64, withPad: "0", startingAt: 0))!
        let high = ObjectID(hex: hex.padding(toLength: 64, withPad: "f", startingAt: 0))!
        let found = try await storage.commitIDs(project: id, from: low.bytes, through: high.bytes, limit: 2)
        if found.count > 1 {
            throw CairnError(.ambiguousRef, "'\(text)' is the prefix of more than one commit; give more digits", details: ["ref": text])
        }
        return found.first
    }

    func commit(_ id: ObjectID) async throws -> Commit { try await repository.commit(id, project: self.id) }

    func tree(at ref: String) async throws -> (ResolvedRef, ObjectID) {
        let resolved = try await resolve(ref)
        return (resolved, try await commit(resolved.commit).tree)
    }

    func headOf(branch: String) async throws -> ObjectID {
        guard let head = try await storage.head(project: id, branch: branch) else {
            throw CairnError(.unknownRef, "no branch '\(branch)' in project '\(record.name)'", details: ["branch": branch])
        }
        return head
    }

    func indexEntry(_ commit: ObjectID) async throws -> CommitIndexEntry {
        guard let e = try await storage.commitIndex(project: id, id: commit) else {
            throw CairnError(.corrupt, "commit \(commit.short) has no index entry", details: ["object": commit.hex])
        }
        return e
    }

    // MARK: Branches

    /// Every branch with its head.
    public func branches() async throws -> [BranchInfo] {
        try await storage.branches(project: id).map { BranchInfo(name: $0.name, head: $0.head) }
    }

    /// Creates a branch at a ref; moving refs is for the governance layer only.
    @discardableResult
    @_spi(StoreWrites) public func createBranch(
        _ name: String,
        from ref: String,
        principal: String,
        audit: AuditHook? = nil
    ) async throws -> BranchInfo {
        try Self.validateBranchName(name)
        let start = try await resolve(ref)
        if try await storage.head(project: id, branch: name) != nil {
            throw CairnError(.branchExists, "branch '\(name)' already exists", details: ["branch": name])
        }
        var batch = WriteBatch()
        batch.refUpdates = [
            RefUpdate(
                project: id,
                branch: name,
                expected: nil,
                new: start.commit,
                timeMillis: Clock.nowMillis(),
                principal: principal,
                reason: "create branch from \(ref)"
            )
        ]
        if let audit { batch.audit = [audit(CommitOutcome(commit: nil, head: start.commit, branch: name, changed: []))] }
        do { try await storage.apply(batch) } catch is RefCASFailure {
            throw CairnError(.branchExists, "branch '\(name)' already exists", details: ["branch": name])
        }
        return BranchInfo(name: name, head: start.commit)
    }

    /// With `expected`, deletes only if the branch is still at that head (else `stale`).
    @_spi(StoreWrites) public func deleteBranch(
        _ name: String,
        expected: ObjectID? = nil,
        principal: String,
        audit: AuditHook? = nil
    ) async throws {
        guard name != "main" else {
            throw CairnError(.conflict, "'main' cannot be deleted: every project has exactly one main")
        }
        let head = try await headOf(branch: name)
        if let expected, expected != head {
            throw CairnError(
                .stale,
                "branch '\(name)' moved since the deletion was asked for",
                details: ["branch": name, "expected": expected.hex, "head": head.hex]
            )
        }
        var batch = WriteBatch()
        batch.refUpdates = [
            RefUpdate(
                project: id,
                branch: name,
                expected: head,
                new: nil,
                timeMillis: Clock.nowMillis(),
                principal: principal,
                reason: "delete branch"
            )
        ]
        if let audit { batch.audit = [audit(CommitOutcome(commit: nil, head: head, branch: name, changed: []))] }
        do { try await storage.apply(batch) } catch is RefCASFailure {
            throw CairnError(.conflict, "branch '\(name)' moved while being deleted; try again", details: ["branch": name])
        }
    }

    /// Branch names: letters, digits, `.`, `_`, `-` and `/` between segments; no `@`, which marks times in refs.
    public static func validateBranchName(_ name: String) throws(CairnError) {
        let allowed = name.utf8.allSatisfy { c in
            (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 45 || c == 95 || c == 46 || c == 47
        }
        let segmentsOK = name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && !$0.hasPrefix(".") }
        let hexLike = name.count >= 4 && name.allSatisfy(\.isHexDigit)
        if name.isEmpty || name.utf8.count > 200 || !allowed || !segmentsOK || name.hasPrefix("-") || name.contains("..") || hexLike {
            throw CairnError(
                .invalidArgument,
                "invalid branch name '\(name)': use letters, digits, '.', '_', '-' and '/' (not leading, doubled or trailing), and not "
                    + "only hex digits",
                details: ["branch": name]
            )
        }
    }

    // MARK: Committing

    /// Transactions and requests carried by the group-commit queue so far (all projects).
    public func commitStats() async -> (transactions: Int, requests: Int) { await repository.queue.stats() }
}
