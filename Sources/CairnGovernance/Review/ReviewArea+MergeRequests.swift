import CairnCore
import CairnStore
import Crypto
import Foundation

/// Merge requests: how work on a branch reaches a protected one (DESIGN.md §5). Every step is
/// authorized here, recorded as a commit of the workflow project with its audit record, and
/// announced on the target project's core.feed.
extension ReviewArea {
    // MARK: Opening

    /// Opens a merge request from a source branch into a target (needs `read` on the source and
    /// `write` on the target).
    public func openMergeRequest(
        _ caller: Caller,
        project name: String,
        source: String,
        target: String,
        title: String,
        description: String? = nil
    ) async throws -> MergeRequestView {
        try await openMergeRequest(
            caller,
            project: name,
            source: source,
            target: target,
            title: title,
            description: description,
            origin: nil
        )
    }

    package func openMergeRequest(
        _ caller: Caller,
        project name: String,
        source: String,
        target: String,
        title: String,
        description: String?,
        origin: String?
    ) async throws -> MergeRequestView {
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...300).contains(title.count) else {
            throw CairnError(.invalidArgument, "a merge request needs a title of 1 to 300 characters")
        }
        if let description, description.utf8.count > 65536 { throw CairnError(.invalidArgument, "a description may be at most 64 KiB") }
        try Project.validateBranchName(source)
        try Project.validateBranchName(target)
        guard source != target else {
            throw CairnError(.invalidArgument, "source and target are the same branch", details: ["branch": source])
        }
        try core.checkWritable(target)
        // A request the Gateway opens for a write to a protected branch needs no authority the
        // write did not: its source is the proposal the write itself just made.
        if origin != "write" {
            _ = try await core.authorize(caller, .read, AccessTarget(project: name, branch: source), action: "merge_request.open")
        }
        let (project, decision) = try await core.open(caller, name, .write, branch: target, action: "merge_request.open")
        _ = try await project.resolve(source)
        _ = try await project.resolve(target)
        let now = Clock.rfc3339(Clock.nowMillis())
        let (request, _) = try await core.updateWorkflow(
            caller,
            action: "merge_request.open",
            decision: decision,
            target: AccessTarget(project: name, branch: target),
            detail: ["source": source, "target": target]
        ) { workflow, head in
            let counter = Workflow.counter(name)
            var number = 1
            if let (next, _) = try await core.workflowRecord(Int.self, counter, in: workflow) { number = next }
            let request = MergeRequest(
                number: number,
                project: name,
                source: source,
                target: target,
                title: title,
                description: description,
                author: caller.principal.subject,
                created: now,
                state: .open,
                reviews: [],
                comments: [],
                attempt: nil,
                resolutions: [:],
                mergeCommit: nil,
                mergeBase: nil,
                mergedHead: nil,
                closedBy: nil,
                updated: now,
                origin: origin
            )
            return (
                [
                    .write(path: counter, content: Workflow.encode(number + 1)),
                    .write(path: Workflow.mergeRequest(name, number), content: Workflow.encode(request)),
                ], request
            )
        }
        core.announce(caller, project: name, branch: target, action: "merge_request.opened", mergeRequest: request.number)
        return try await view(request, in: project)
    }

    // MARK: Reading

    /// One merge request with its standing: approvals at the current source head, voided ones,
    /// unresolved conflicts.
    public func mergeRequest(_ caller: Caller, project name: String, number: Int) async throws -> MergeRequestView {
        let (project, _) = try await core.open(caller, name, .read, action: "merge_request.read")
        let request = try await loadMergeRequest(caller, project: name, number: number).0
        try await core.authorize(caller, .read, AccessTarget(project: name, branch: request.source), action: "merge_request.read")
        return try await view(request, in: project)
    }

    /// A page of merge requests.
    public struct MergeRequestPage: Sendable, Codable {
        public let mergeRequests: [MergeRequestView]
        public let next: String?
    }

    /// Merge requests of a project, oldest first, optionally of one stored state.
    public func mergeRequests(
        _ caller: Caller,
        project name: String,
        state: MergeRequest.State? = nil,
        limit: Int = 50,
        cursor: String? = nil
    ) async throws -> MergeRequestPage {
        let (project, _) = try await core.open(caller, name, .read, action: "merge_request.list")
        guard (1...500).contains(limit) else { throw CairnError(.invalidArgument, "limit must be 1 to 500") }
        let policy = try await core.policy(for: caller)
        let (out, next) = try await core.workflowPage(
            caller.organization,
            prefix: Workflow.mergeRequests(name),
            limit: limit,
            cursor: cursor
        ) {
            (request: MergeRequest) -> MergeRequestView? in
            if let state, request.state != state { return nil }
            guard policy.decide(caller.principal, .read, AccessTarget(project: name, branch: request.source)).allowed else { return nil }
            return try await view(request, in: project)
        }
        return MergeRequestPage(mergeRequests: out, next: next)
    }

    /// What the merge request would change, entity by entity, from the merge base to the source head.
    public func mergeRequestDiff(
        _ caller: Caller,
        project name: String,
        number: Int,
        limit: Int = 1000,
        cursor: String? = nil
    ) async throws -> MergeRequestDiff {
        let (project, _) = try await core.open(caller, name, .read, action: "merge_request.diff")
        let request = try await loadMergeRequest(caller, project: name, number: number).0
        try await core.authorize(caller, .read, AccessTarget(project: name, branch: request.source), action: "merge_request.diff")
        let (from, to) = try await reviewedRange(request, in: project)
        let result = try await project.diff(from: from.hex, to: to.hex, limit: limit, after: cursor)
        let visible = Set(try await core.readable(caller, project: name, branch: request.source, paths: result.files.map(\.path)))
        let entities = result.files.filter { visible.contains($0.path) }.map { file in
            let pointers = file.json?.map(\.pointer)
            let moved = file.change == .modified && (pointers?.contains { $0 == "/geometry" || $0.hasPrefix("/geometry/") } ?? false)
            let change =
                switch file.change {
                case .added: "added"
                case .deleted: "removed"
                case .modified: moved ? "moved" : "modified"
                }
            return MergeRequestDiff.Entity(path: file.path, change: change, members: pointers)
        }
        return MergeRequestDiff(base: from.hex, head: to.hex, entities: entities, next: result.next)
    }

    // MARK: Review

    /// Adds a comment to a request (needs `read`).
    public func comment(
        _ caller: Caller,
        project name: String,
        number: Int,
        body: String,
        path: String? = nil
    ) async throws -> MergeRequestView {
        let text = body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.utf8.count <= 65536 else {
            throw CairnError(.invalidArgument, "a comment needs 1 byte to 64 KiB of text")
        }
        if let path { try core.checkPath(path) }
        let (project, decision) = try await core.open(caller, name, .read, action: "merge_request.comment")
        let view = try await mutate(
            caller,
            project: name,
            number: number,
            action: "merge_request.comment",
            decision: decision,
            in: project,
            detail: [:]
        ) { request in
            guard request.state == .open else { throw Self.notOpen(request) }
            request.comments.append(
                MergeRequest.Comment(author: caller.principal.subject, body: text, path: path, time: Clock.rfc3339(Clock.nowMillis()))
            )
        }
        core.announce(caller, project: name, branch: view.request.target, action: "merge_request.commented", mergeRequest: number)
        return view
    }

    /// Approve, request changes or reject, with a rationale, bound to the source head now.
    /// Refused to the authors of the source's changes, and (for approve) to agents: a person signs off.
    public func review(
        _ caller: Caller,
        project name: String,
        number: Int,
        verdict: MergeRequest.Verdict,
        rationale: String,
        head expected: String? = nil
    ) async throws -> MergeRequestView {
        let why = rationale.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !why.isEmpty, why.utf8.count <= 65536 else {
            throw CairnError(.invalidArgument, "a review needs a rationale (1 byte to 64 KiB)")
        }
        let (request0, _) = try await loadMergeRequest(caller, project: name, number: number, authorizing: false)
        let (project, decision) = try await core.open(caller, name, .approve, branch: request0.target, action: "merge_request.review")
        guard request0.state == .open else { throw Self.notOpen(request0) }
        if verdict == .approve && caller.principal.kind == .agent {
            await core.audit(
                caller,
                action: "merge_request.review",
                outcome: "denied",
                decision: decision,
                target: AccessTarget(project: name, branch: request0.target),
                paths: nil,
                detail: ["mergeRequest": String(number), "verdict": verdict.rawValue]
            )
            throw CairnError(
                .permissionDenied,
                "an agent cannot approve a merge request: a person signs off",
                details: ["mergeRequest": String(number)]
            )
        }
        let head = try await project.resolve(request0.source).commit
        // A review given on what a page showed binds to that head: if the source moved on since,
        // the reviewer has not seen what would be merged.
        if let expected, expected != head.hex {
            throw CairnError(
                .stale,
                "'\(request0.source)' moved on to \(head.short) since \(expected.prefix(12)) was shown: review the new changes",
                details: ["mergeRequest": String(number), "head": head.hex, "shown": expected]
            )
        }
        let authors = try await sourceAuthors(request0, in: project)
        if authors.contains(caller.principal.subject)
            || (verdict == .approve && request0.author == caller.principal.subject && request0.origin == nil && authors.isEmpty)
        {
            await core.audit(
                caller,
                action: "merge_request.review",
                outcome: "denied",
                decision: decision,
                target: AccessTarget(project: name, branch: request0.target),
                paths: nil,
                detail: ["mergeRequest": String(number), "verdict": verdict.rawValue, "why": "self-approval"]
            )
            throw CairnError(
                .selfApproval,
                "\(caller.principal.subject) wrote changes on '\(request0.source)' and cannot review them; another reviewer must",
                details: ["mergeRequest": String(number)]
            )
        }
        let time = Clock.rfc3339(Clock.nowMillis())
        let id = Hex.encode(
            Array(
                SHA256.hash(
                    data: Array("review\u{0}\(name)\u{0}\(number)\u{0}\(caller.principal.subject)\u{0}\(head.hex)\u{0}\(time)".utf8)
                )
            )
        )
        let view = try await mutate(
            caller,
            project: name,
            number: number,
            action: "merge_request.review",
            decision: decision,
            in: project,
            detail: ["verdict": verdict.rawValue, "rationale": why, "sourceHead": head.hex, "review": id]
        ) { request in
            guard request.state == .open else { throw Self.notOpen(request) }
            request.reviews.append(
                MergeRequest.Review(
                    id: id,
                    reviewer: caller.principal.subject,
                    verdict: verdict,
                    rationale: why,
                    commit: head.hex,
                    time: time
                )
            )
            if verdict == .reject {
                request.state = .closed
                request.closedBy = caller.principal.subject
            }
        }
        trackApprovals(caller.organization, view.request, live: view.request.state == .open && view.approvals > 0)
        core.announce(
            caller,
            project: name,
            branch: view.request.target,
            action: "merge_request.\(verdict.rawValue)",
            commit: head.hex,
            mergeRequest: number
        )
        return view
    }

    /// Closes without merging: by its author, or by whoever may approve into its target.
    public func closeMergeRequest(_ caller: Caller, project name: String, number: Int) async throws -> MergeRequestView {
        let (request0, _) = try await loadMergeRequest(caller, project: name, number: number, authorizing: false)
        let authority: Authority = request0.author == caller.principal.subject ? .read : .approve
        let (project, decision) = try await core.open(caller, name, authority, branch: request0.target, action: "merge_request.close")
        let view = try await mutate(
            caller,
            project: name,
            number: number,
            action: "merge_request.close",
            decision: decision,
            in: project,
            detail: [:]
        ) { request in
            guard request.state == .open else { throw Self.notOpen(request) }
            request.state = .closed
            request.closedBy = caller.principal.subject
        }
        trackApprovals(caller.organization, view.request, live: false)
        core.announce(caller, project: name, branch: view.request.target, action: "merge_request.closed", mergeRequest: number)
        return view
    }

    // MARK: Merging

    /// What merging a request did: merged with the commit, or stopped on conflicts kept with the
    /// request.
    public enum MergeRequestResult: Sendable {
        case merged(MergeRequestView, CommitOutcome)
        /// The attempt's hunks, kept with the request; settle them with `resolutions`.
        case conflicts(MergeRequestView)
    }

    /// Merges an open request: its target's protection must be met by approvals at the source's
    /// current head, and the merge is of exactly that head. Conflicts are kept with the request;
    /// resolutions given now add to those given before; the merge completes when none is left.
    public func mergeMergeRequest(
        _ caller: Caller,
        project name: String,
        number: Int,
        resolutions: [String: [String: MergeResolution]] = [:]
    ) async throws -> MergeRequestResult {
        let (request, _) = try await loadMergeRequest(caller, project: name, number: number, authorizing: false)
        let (project, decision) = try await core.open(caller, name, .write, branch: request.target, action: "merge_request.merge")
        guard request.state == .open else { throw Self.notOpen(request) }
        let current = try await view(request, in: project)
        let target = AccessTarget(project: name, branch: request.target)
        if current.requiredApprovals > 0 && current.status != "approved" {
            let changes = request.currentReviews(head: current.sourceHead ?? "").filter { $0.verdict == .requestChanges }.map(\.reviewer)
            let why =
                !changes.isEmpty
                ? "changes were requested by \(changes.joined(separator: ", "))"
                : "it has \(current.approvals) of the \(current.requiredApprovals) approval(s) '\(request.target)' needs at the "
                    + "source's head \(current.sourceHead?.prefix(12) ?? "")"
                    + (current.voided > 0 ? " (\(current.voided) voided by newer commits)" : "")
            let error = CairnError(
                .approvalRequired,
                "merge request !\(number) cannot merge yet: \(why)",
                details: ["mergeRequest": String(number)]
            )
            await core.audit(
                caller,
                action: "merge_request.merge",
                outcome: "refused",
                decision: decision,
                target: target,
                paths: nil,
                error: error
            )
            throw error
        }
        var all = request.resolutions
        for (path, hunks) in resolutions { all[path, default: [:]].merge(hunks) { _, new in new } }
        guard let sourceHead = current.sourceHead.flatMap({ ObjectID(hex: $0) }) else {
            throw CairnError(.unknownRef, "the source branch '\(request.source)' no longer exists", details: ["branch": request.source])
        }
        let approvals = request.currentReviews(head: sourceHead.hex).filter { $0.verdict == .approve }.compactMap { ObjectID(hex: $0.id) }
        let outcome = try await core.history.performMerge(
            caller,
            project: name,
            source: request.source,
            into: request.target,
            sourceHead: sourceHead,
            resolutions: all,
            message: "merge request !\(number): \(request.title)",
            approvals: approvals,
            action: "merge_request.merge",
            detail: ["mergeRequest": String(number)]
        )
        let time = Clock.rfc3339(Clock.nowMillis())
        switch outcome {
        case .conflicts(let files, let base, let ours, let theirs):
            let view = try await mutate(
                caller,
                project: name,
                number: number,
                action: "merge_request.conflicts",
                decision: decision,
                in: project,
                detail: [:]
            ) { r in
                r.resolutions = all
                r.attempt = MergeRequest.Attempt(
                    base: base.hex,
                    ours: ours.hex,
                    theirs: theirs.hex,
                    conflicts: files,
                    by: caller.principal.subject,
                    time: time
                )
            }
            return .conflicts(view)
        case .merged(let out, let base):
            let view = try await mutate(
                caller,
                project: name,
                number: number,
                action: "merge_request.merged",
                decision: decision,
                in: project,
                detail: ["commit": out.commit?.hex ?? out.head.hex]
            ) { r in
                r.state = .merged
                r.resolutions = all
                r.attempt = nil
                r.mergeCommit = (out.commit ?? out.head).hex
                r.mergeBase = base.hex
                r.mergedHead = sourceHead.hex
            }
            trackApprovals(caller.organization, view.request, live: false)
            core.announce(
                caller,
                project: name,
                branch: request.target,
                action: "merge_request.merged",
                commit: (out.commit ?? out.head).hex,
                mergeRequest: number
            )
            return .merged(view, out)
        }
    }

    // MARK: Helpers

    static func notOpen(_ r: MergeRequest) -> CairnError {
        CairnError(
            .conflict,
            "merge request !\(r.number) is \(r.state.rawValue)",
            details: ["mergeRequest": String(r.number), "state": r.state.rawValue]
        )
    }

    func loadMergeRequest(
        _ caller: Caller,
        project name: String,
        number: Int,
        authorizing: Bool = true
    ) async throws -> (MergeRequest, ObjectID) {
        if authorizing {
            _ = try await core.open(caller, name, .read, action: "merge_request.read")
        } else {
            _ = try await core.project(caller, name)
        }
        guard number > 0,
            let found = try await core.workflowRecord(
                MergeRequest.self,
                Workflow.mergeRequest(name, number),
                in: try await core.workflowProject(caller.organization)
            )
        else {
            // Answered alike whether the caller may not read the project or it has no such request.
            if !authorizing { _ = try await core.authorize(caller, .read, AccessTarget(project: name), action: "merge_request.read") }
            throw CairnError(.notFound, "no merge request !\(number) in '\(name)'", details: ["mergeRequest": String(number)])
        }
        return found
    }

    /// Applies `change` to the stored request and commits it (retried over concurrent changes).
    func mutate(
        _ caller: Caller,
        project name: String,
        number: Int,
        action: String,
        decision: Decision,
        in project: Project,
        detail: [String: String],
        _ change: @escaping (inout MergeRequest) throws -> Void
    ) async throws -> MergeRequestView {
        let path = Workflow.mergeRequest(name, number)
        let (request, _) = try await core.updateWorkflow(
            caller,
            action: action,
            decision: decision,
            target: AccessTarget(project: name),
            detail: detail.merging(["mergeRequest": String(number)]) { a, _ in a }
        ) { workflow, head in
            guard var request = try await core.workflowRecord(MergeRequest.self, path, in: workflow)?.0 else {
                throw CairnError(.notFound, "no merge request !\(number) in '\(name)'", details: ["mergeRequest": String(number)])
            }
            try change(&request)
            request.updated = Clock.rfc3339(Clock.nowMillis())
            return ([.write(path: path, content: Workflow.encode(request))], request)
        }
        return try await view(request, in: project)
    }

    /// The merge base and the source head: what a review looks at.
    func reviewedRange(_ request: MergeRequest, in project: Project) async throws -> (ObjectID, ObjectID) {
        if let base = request.mergeBase.flatMap({ ObjectID(hex: $0) }), let head = request.mergedHead.flatMap({ ObjectID(hex: $0) }) {
            return (base, head)
        }
        let head = try await project.resolve(request.source).commit
        let targetHead = try await project.resolve(request.target).commit
        let base = try await project.mergeBase(targetHead, head) ?? head
        return (base, head)
    }

    func sourceAuthors(_ request: MergeRequest, in project: Project) async throws -> Set<String> {
        guard request.state == .open else { return [] }
        let head = try await project.resolve(request.source).commit
        let targetHead = try await project.resolve(request.target).commit
        return try await project.divergence(head, from: targetHead).aheadAuthors
    }

    func view(_ request: MergeRequest, in project: Project) async throws -> MergeRequestView {
        var sourceHead: String?
        var authors: Set<String> = []
        if request.state == .open, let head = try? await project.resolve(request.source).commit {
            sourceHead = head.hex
            if let targetHead = try? await project.resolve(request.target).commit {
                authors = try await project.divergence(head, from: targetHead).aheadAuthors
            }
        }
        let required = try await core.protection(project).rule(for: request.target)?.requiredApprovals ?? 0
        let current = request.currentReviews(head: sourceHead ?? "")
        let approvals = current.filter { $0.verdict == .approve && !authors.contains($0.reviewer) }.count
        let changesRequested = current.contains { $0.verdict == .requestChanges }
        var latest: [String: MergeRequest.Review] = [:]
        for r in request.reviews { latest[r.reviewer] = r }
        let voided = latest.values.filter { $0.verdict == .approve && $0.commit != sourceHead }.count
        let status: String =
            switch request.state {
            case .merged: "merged"
            case .closed: "closed"
            case .open: sourceHead != nil && approvals >= max(required, 1) && !changesRequested ? "approved" : "open"
            }
        let unresolved =
            request.attempt?.conflicts.reduce(0) { n, file in
                n + file.hunks.filter { request.resolutions[file.path]?[$0.pointer] == nil }.count
            } ?? 0
        return MergeRequestView(
            request: request,
            status: status,
            sourceHead: sourceHead,
            approvals: approvals,
            requiredApprovals: required,
            voided: request.state == .open ? voided : 0,
            sourceAuthors: authors.sorted(),
            unresolved: unresolved
        )
    }
}

/// Announcing approvals a new source commit voids: the view already shows them as voided;
/// this tells a reviewer watching the feed that their sign-off no longer stands.
extension ReviewArea {
    func announceVoidedApprovals(_ caller: Caller, project name: String, branch: String, commit: ObjectID) async {
        let key = Gateway.ProjectKey(organization: caller.organization.id, name: name)
        do {
            if caches.approvedSources.withLock({ $0[key] }) == nil {
                let loaded = try await loadApprovedSources(caller.organization, project: name)
                caches.approvedSources.withLock { if $0[key] == nil { $0[key] = loaded } }
            }
        } catch {
            core.logger.warning(
                "could not load open merge requests to announce voided approvals",
                metadata: ["project": "\(name)", "error": "\(error)"]
            )
            return
        }
        let voided = caches.approvedSources.withLock { $0[key]?.removeValue(forKey: branch) } ?? []
        for number in voided.sorted() {
            core.announce(
                caller,
                project: name,
                branch: branch,
                action: "merge_request.approval_voided",
                commit: commit.hex,
                mergeRequest: number
            )
        }
    }

    /// Reads a project's approved sources again, if this server keeps them: another server
    /// changed a merge request. Read now, not at the next commit, because that commit may be
    /// the one that voids the approval, and it must be known as live until then.
    func refreshApprovedSources(organization: Int64, project: String) async {
        let key = Gateway.ProjectKey(organization: organization, name: project)
        guard caches.approvedSources.withLock({ $0[key] }) != nil else { return }  // not loaded: the first load reads the store
        do {
            guard let org = try await core.storage.organization(id: organization) else { return }
            let loaded = try await loadApprovedSources(org, project: project)
            caches.approvedSources.withLock { $0[key] = loaded }
        } catch {
            // Forgotten rather than wrong: the next commit's check reads the store.
            _ = caches.approvedSources.withLock { $0.removeValue(forKey: key) }
            core.logger.warning(
                "could not reload open merge requests after another server changed one",
                metadata: ["project": "\(project)", "error": "\(error)"]
            )
        }
    }

    /// Records (or forgets) that a request's source holds live approvals.
    func trackApprovals(_ org: OrganizationRecord, _ request: MergeRequest, live: Bool) {
        let key = Gateway.ProjectKey(organization: org.id, name: request.project)
        caches.approvedSources.withLock { all in
            guard all[key] != nil else { return }  // not loaded yet: the first load reads the store
            if live {
                all[key]![request.source, default: []].insert(request.number)
            } else {
                all[key]![request.source]?.remove(request.number)
            }
        }
    }

    private func loadApprovedSources(_ org: OrganizationRecord, project name: String) async throws -> [String: Set<Int>] {
        // No review state yet: nothing to void, and no reason to make the workflow project.
        guard try await core.storage.project(organization: org.id, named: Workflow.project) != nil else { return [:] }
        let workflow = try await core.workflowProject(org)
        let head = try await workflow.resolve("main").commit
        var out: [String: Set<Int>] = [:]
        var cursor: String?
        repeat {
            let page = try await workflow.glob(Workflow.mergeRequests(name) + "*.json", at: head.hex, limit: 1000, after: cursor)
            for path in page.paths {
                let (_, _, bytes) = try await workflow.readBytes(path, at: head.hex)
                guard let r = try? JSONDecoder().decode(MergeRequest.self, from: Data(bytes)), r.state == .open else { continue }
                let heads = Set(r.reviews.filter { $0.verdict == .approve }.map(\.commit))
                // Only approvals at the source's head now can still be voided.
                guard let project = try? await core.repository.project(name, organization: org.id),
                    let current = try? await project.resolve(r.source).commit, heads.contains(current.hex)
                else { continue }
                out[r.source, default: []].insert(r.number)
            }
            cursor = page.next
        } while cursor != nil
        return out
    }
}
