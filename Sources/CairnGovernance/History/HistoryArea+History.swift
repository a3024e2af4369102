import CairnCore
@_spi(StoreWrites) import CairnStore

/// History, branches and projects: reads are authorized like file reads; changes are audited.
extension HistoryArea {
    /// Commits newest first, a page at a time; with a path, only those that changed it. A
    /// path-limited caller sees only commits touching its paths.
    public func log(
        _ caller: Caller,
        project name: String,
        at ref: String = "main",
        path: String? = nil,
        limit: Int = 50,
        cursor: String? = nil
    ) async throws -> LogPage {
        if let path { try core.checkPath(path) }
        let branch = Gateway.branch(of: ref)
        let (project, _) = try await core.open(caller, name, .read, branch: branch, path: path, action: "history.log")
        let policy = try await core.policy(for: caller)
        guard path == nil, policy.hasPathRules(caller.principal, project: name) else {
            return try await project.log(at: ref, path: path, limit: limit, cursor: cursor)
        }
        // A caller limited to some paths sees a commit only through them: a commit touching none
        // is not listed, one touching some lists those. The cursor is the last commit shown
        // (opaque), never one the caller may not see.
        let principal = caller.principal
        var start: String?
        if let cursor {
            guard let id = ObjectID(hex: try Gateway.decodeCursor(cursor)) else {
                throw CairnError(.invalidArgument, "this cursor is not one a listing gave; start again without it")
            }
            guard let parent = try await project.firstParent(id) else { return LogPage(commits: [], next: nil) }
            start = parent.hex
        }
        var entries: [LogEntry] = []
        while entries.count < limit {
            let page = try await project.log(at: start ?? ref, limit: max(limit, 50))
            for entry in page.commits {
                try Task.checkCancellation()
                let visible = try await project.changedPaths(entry.commit.id).filter {
                    policy.decide(principal, .read, AccessTarget(project: name, branch: branch, path: $0)).allowed
                }
                guard !visible.isEmpty else { continue }
                entries.append(LogEntry(commit: entry.commit, change: nil, paths: visible))
                if entries.count == limit {
                    let more = entry.commit.parents.first != nil
                    return LogPage(commits: entries, next: more ? Gateway.encodeCursor(entry.commit.id.hex) : nil)
                }
            }
            guard let next = page.next else { break }
            start = next
        }
        return LogPage(commits: entries, next: nil)
    }

    /// One commit and the files it changed, as far as the caller may read them.
    public func show(_ caller: Caller, project name: String, ref: String) async throws -> CommitDetail {
        let (project, _) = try await core.open(caller, name, .read, branch: Gateway.branch(of: ref), action: "history.show")
        let detail = try await project.show(ref)
        let policy = try await core.policy(for: caller)
        guard policy.hasPathRules(caller.principal, project: name) else { return detail }
        let visible = Set(try await core.readable(caller, project: name, branch: Gateway.branch(of: ref), paths: detail.files.map(\.path)))
        // A commit that touched nothing the caller may see answers as one that does not exist.
        if visible.isEmpty && !detail.files.isEmpty {
            throw CairnError(.unknownRef, "no commit or branch named '\(ref)'", details: ["ref": ref])
        }
        return CommitDetail(commit: detail.commit, files: detail.files.filter { visible.contains($0.path) })
    }

    /// `json: false` skips the per-pointer detail of JSON files (faster on large diffs).
    public func diff(
        _ caller: Caller,
        project name: String,
        from: String,
        to: String,
        json: Bool = true,
        limit: Int = 1000,
        after: String? = nil
    ) async throws -> DiffResult {
        let (project, _) = try await core.open(caller, name, .read, branch: Gateway.branch(of: to), action: "history.diff")
        _ = try await core.authorize(caller, .read, AccessTarget(project: name, branch: Gateway.branch(of: from)), action: "history.diff")
        let result = try await project.diff(from: from, to: to, json: json, limit: limit, after: after)
        let visible = Set(try await core.readable(caller, project: name, branch: Gateway.branch(of: to), paths: result.files.map(\.path)))
        return DiffResult(from: result.from, to: result.to, files: result.files.filter { visible.contains($0.path) }, next: result.next)
    }

    /// The commit that last set each JSON value of a file: the why behind every value.
    public func blame(_ caller: Caller, project name: String, path: String, at ref: String = "main") async throws -> [BlameEntry] {
        try core.checkPath(path)
        let (project, _) = try await core.open(caller, name, .read, branch: Gateway.branch(of: ref), path: path, action: "history.blame")
        return try await project.blame(path, at: ref)
    }

    /// Reverting is a new commit, authorized as a write on every path it changes.
    public func revert(_ caller: Caller, project name: String, ref: String, branch: String = "main") async throws -> CommitOutcome {
        try core.checkWritable(branch)
        var decision = try await core.authorize(caller, .write, AccessTarget(project: name, branch: branch), action: "history.revert")
        let project = try await core.project(caller, name)
        if try await core.review.writePolicy(caller, project, branch: branch, decision: decision, action: "history.revert") != .direct {
            throw CairnError(
                .branchProtected,
                "'\(branch)' is protected: revert on a branch of it and open a merge request",
                details: ["branch": branch]
            )
        }
        for file in try await project.show(ref).files {
            decision = try await core.authorize(
                caller,
                Gateway.authority(forChanging: file.path, file.change == .added ? .delete : .write),
                AccessTarget(project: name, branch: branch, path: file.path),
                action: "history.revert"
            )
        }
        try core.requireReason(caller)
        let target = AccessTarget(project: name, branch: branch)
        let outcome = try await core.change(caller, action: "history.revert", decision: decision, target: target) { [decision] in
            try await project.revert(
                ref,
                branch: branch,
                metadata: core.metadata(caller, default: "revert \(ref)"),
                audit: core.auditHook(caller, action: "history.revert", decision: decision, target: target, detail: ["reverted": ref]),
                check: core.ontology.commitCheck()
            )
        }
        core.publish(caller, project: name, action: "history.revert", outcome: outcome)
        return outcome
    }

    // MARK: Branches

    /// The branches the caller may read, with author and divergence from `main`.
    public func branches(_ caller: Caller, project name: String) async throws -> [BranchSummary] {
        let (project, _) = try await core.open(caller, name, .read, action: "branch.list")
        let policy = try await core.policy(for: caller)
        return try await project.branchSummaries().filter {
            policy.decide(caller.principal, .read, AccessTarget(project: name, branch: $0.name)).allowed
        }
    }

    /// Names and heads only: what a feed's `ready` event needs, without the divergence walks.
    public func branchHeads(_ caller: Caller, project name: String) async throws -> [BranchInfo] {
        let (project, _) = try await core.open(caller, name, .read, action: "branch.list")
        let policy = try await core.policy(for: caller)
        return try await project.branches().filter {
            policy.decide(caller.principal, .read, AccessTarget(project: name, branch: $0.name)).allowed
        }
    }

    /// Archives a branch (needs `delete` on it): it becomes `archive/<name>`, read-only, with its history.
    public func archiveBranch(_ caller: Caller, project name: String, branch: String) async throws -> BranchInfo {
        let (project, decision) = try await core.open(caller, name, .delete, branch: branch, action: "branch.archive")
        let target = AccessTarget(project: name, branch: branch)
        let info = try await core.change(caller, action: "branch.archive", decision: decision, target: target) {
            try await project.archiveBranch(
                branch,
                principal: caller.principal.subject,
                reason: caller.reason ?? "archived",
                audit: core.auditHook(
                    caller,
                    action: "branch.archive",
                    decision: decision,
                    target: target,
                    detail: ["archivedAs": Project.archivePrefix + branch]
                )
            )
        }
        core.announce(caller, project: name, branch: branch, action: "branch.archive", commit: info.head.hex)
        return info
    }

    /// Creates a branch at a ref (needs `write` on it); archived names are reserved.
    public func createBranch(_ caller: Caller, project name: String, branch: String, from ref: String = "main") async throws -> BranchInfo {
        if Project.isArchived(branch) {
            throw CairnError(
                .invalidArgument,
                "branch names under '\(Project.archivePrefix)' are kept for archived branches",
                details: ["branch": branch]
            )
        }
        _ = try await core.authorize(caller, .read, AccessTarget(project: name, branch: Gateway.branch(of: ref)), action: "branch.create")
        let (project, decision) = try await core.open(caller, name, .write, branch: branch, action: "branch.create")
        let target = AccessTarget(project: name, branch: branch)
        let info = try await core.change(caller, action: "branch.create", decision: decision, target: target) {
            try await project.createBranch(
                branch,
                from: ref,
                principal: caller.principal.subject,
                audit: core.auditHook(caller, action: "branch.create", decision: decision, target: target, detail: ["from": ref])
            )
        }
        core.publish(
            caller,
            project: name,
            action: "branch.create",
            outcome: CommitOutcome(commit: info.head, head: info.head, branch: branch, changed: [])
        )
        return info
    }

    /// Deletes a branch (needs `delete`); gated when the organization asks for approval of branch
    /// deletion.
    public func deleteBranch(_ caller: Caller, project name: String, branch: String) async throws {
        let (project, decision) = try await core.open(caller, name, .delete, branch: branch, action: "branch.delete")
        let target = AccessTarget(project: name, branch: branch)
        if try await core.policy(caller.organization).config.approvals.gates(.branchDelete) {
            try await core.review.enqueue(
                caller,
                operation: .branchDelete,
                action: "branch.delete",
                summary: "delete branch \(branch) of \(name)",
                project: name,
                branch: branch,
                changes: nil,
                base: try await project.resolve(branch).commit,
                decision: decision,
                detail: ["branch": branch]
            )
        }
        try await core.change(caller, action: "branch.delete", decision: decision, target: target) {
            try await project.deleteBranch(
                branch,
                principal: caller.principal.subject,
                audit: core.auditHook(caller, action: "branch.delete", decision: decision, target: target)
            )
        }
    }
}
