import CairnCore
import CairnGovernance
import CairnStore
import CairnTestSupport
import Foundation
import Testing

/// Merge requests and branch protection through the Gateway: who may approve, what an approval
/// binds to, and what reaches a protected branch.
@Suite struct MergeRequestTests {
    struct World {
        let f: GovernanceFixture
        let org: OrganizationRecord
        let admin: Caller, designer: Caller, reviewer: Caller, agent: Caller

        func text(_ path: String, at ref: String = "main") async throws -> String {
            String(decoding: try await f.gateway.readBytes(admin, project: "net", path: path, at: ref).2, as: UTF8.self)
        }
    }

    func world() async throws -> World {
        let f = try await GovernanceFixture()
        let org = try await f.organization("acme")
        let op = f.operatorCaller(org)
        _ = try await f.gateway.access.putMember(op, subject: "user:ada", role: "admin")
        _ = try await f.gateway.access.putMember(op, subject: "user:dan", role: "designer")
        _ = try await f.gateway.access.putMember(op, subject: "user:rita", role: "reviewer")
        _ = try await f.gateway.access.putMember(op, subject: "agent:bot", role: "designer")
        let admin = f.user("ada", in: org)
        _ = try await f.gateway.createProject(admin, name: "net")
        try await f.gateway.write(admin, project: "net", path: "cab/1.json", content: Array(#"{"name":"c1","capacity":10}"#.utf8))
        let agent = Caller(
            principal: Principal(subject: "agent:bot", kind: .agent, credential: "test", onBehalfOf: "user:dan"),
            organization: org,
            reason: "raise capacity"
        )
        return World(f: f, org: org, admin: admin, designer: f.user("dan", in: org), reviewer: f.user("rita", in: org), agent: agent)
    }

    @Test func anAgentsWriteToProtectedMainBecomesAMergeRequestAndMergesOnlyAfterAPersonApproves() async throws {
        let w = try await world()
        let feed = try await w.f.gateway.changes(w.admin, project: "net")
        let heard = Task {
            var actions: [String] = []
            for await event in feed {
                actions.append(event.action + (event.mergeRequest.map { "#\($0)" } ?? ""))
                if event.action == "merge_request.merged" { break }
            }
            return actions
        }
        let mainBefore = try await w.f.heads(w.org)["net/main"]
        let out = try await w.f.gateway.write(
            w.agent,
            project: "net",
            path: "cab/1.json",
            content: Array(#"{"name":"c1","capacity":48}"#.utf8)
        )
        let number = try #require(out.mergeRequest)
        #expect(out.branch.hasPrefix("proposals/"))
        #expect(try await w.f.heads(w.org)["net/main"] == mainBefore, "nothing reached main")
        #expect(try await w.text("cab/1.json", at: out.branch).contains("48"))

        var view = try await w.f.gateway.review.mergeRequest(w.designer, project: "net", number: number)
        #expect(
            view.status == "open" && view.request.author == "agent:bot" && view.requiredApprovals == 1
                && view.sourceAuthors == ["agent:bot"]
        )
        let diff = try await w.f.gateway.review.mergeRequestDiff(w.designer, project: "net", number: number)
        #expect(diff.entities.map(\.path) == ["cab/1.json"] && diff.entities[0].change == "modified")

        await expectError(.approvalRequired) { try await w.f.gateway.review.mergeMergeRequest(w.designer, project: "net", number: number) }
        // The agent can neither approve its own change nor anyone's; a designer may not approve at all.
        await expectError(.permissionDenied) {
            try await w.f.gateway.review.review(w.designer, project: "net", number: number, verdict: .approve, rationale: "fine")
        }
        _ = try await w.f.gateway.review.comment(w.designer, project: "net", number: number, body: "48 matches the splice plan")

        view = try await w.f.gateway.review.review(
            w.reviewer,
            project: "net",
            number: number,
            verdict: .approve,
            rationale: "capacity checked against the plan"
        )
        #expect(view.status == "approved" && view.approvals == 1)
        guard
            case .merged(let merged, let commit) = try await w.f.gateway.review.mergeMergeRequest(
                w.designer,
                project: "net",
                number: number
            )
        else {
            Issue.record("expected a merge")
            return
        }
        #expect(merged.status == "merged" && merged.request.mergeCommit == commit.commit?.hex)
        #expect(try await w.text("cab/1.json").contains("48"))
        // The merge commit lists the approval, and the audit log links requester, approver, rationale and commit.
        let detail = try await w.f.gateway.history.show(w.admin, project: "net", ref: try #require(commit.commit?.hex))
        let reviewID = try #require(merged.request.reviews.first?.id)
        #expect(detail.commit.approvals.map(\.hex) == [reviewID])
        let audit = try await w.f.audit(w.org).map(\.record)
        let review = try #require(audit.last { $0.action == "merge_request.review" })
        #expect(
            review.actor == "user:rita" && review.detail?["rationale"] == "capacity checked against the plan"
                && review.detail?["verdict"] == "approve"
        )
        let mergeRecord = try #require(audit.last { $0.action == "merge_request.merge" && $0.outcome == "ok" })
        #expect(
            mergeRecord.actor == "user:dan" && mergeRecord.commit == commit.commit?.hex
                && mergeRecord.detail?["mergeRequest"] == String(number)
        )
        let opened = try #require(audit.first { $0.action == "merge_request.open" })
        #expect(opened.actor == "agent:bot")
        // The feed announced each step of the request.
        let actions = await heard.value
        #expect(actions.contains("merge_request.opened#\(number)") && actions.contains("merge_request.commented#\(number)"))
        #expect(actions.contains("merge_request.approve#\(number)") && actions.last == "merge_request.merged#\(number)", "\(actions)")
    }

    @Test func selfApprovalIsRefusedAndAnAgentCannotApprove() async throws {
        let w = try await world()
        _ = try await w.f.gateway.history.createBranch(w.reviewer, project: "net", branch: "rita/fix")
        try await w.f.gateway.write(w.reviewer, project: "net", path: "cab/2.json", content: Array("{}".utf8), branch: "rita/fix")
        let mr = try await w.f.gateway.review.openMergeRequest(
            w.reviewer,
            project: "net",
            source: "rita/fix",
            target: "main",
            title: "add cab 2"
        )
        await expectError(.selfApproval) {
            try await w.f.gateway.review.review(w.reviewer, project: "net", number: mr.request.number, verdict: .approve, rationale: "mine")
        }
        _ = try await w.f.gateway.access.putMember(w.f.operatorCaller(w.org), subject: "agent:bot", role: "reviewer")
        await expectError(.permissionDenied) {
            try await w.f.gateway.review.review(w.agent, project: "net", number: mr.request.number, verdict: .approve, rationale: "ok")
        }
        let refused = try await w.f.audit(w.org).map(\.record).filter { $0.action == "merge_request.review" && $0.outcome == "denied" }
        #expect(refused.count == 2)
    }

    @Test func aNewSourceCommitVoidsTheApproval() async throws {
        let w = try await world()
        _ = try await w.f.gateway.history.createBranch(w.designer, project: "net", branch: "dan/cap")
        try await w.f.gateway.write(
            w.designer,
            project: "net",
            path: "cab/1.json",
            content: Array(#"{"name":"c1","capacity":20}"#.utf8),
            branch: "dan/cap"
        )
        let mr = try await w.f.gateway.review.openMergeRequest(
            w.designer,
            project: "net",
            source: "dan/cap",
            target: "main",
            title: "capacity 20"
        )
        var view = try await w.f.gateway.review.review(
            w.reviewer,
            project: "net",
            number: mr.request.number,
            verdict: .approve,
            rationale: "ok at 20"
        )
        #expect(view.status == "approved")
        let voidedEvent = Self.firstEvent(try await w.f.gateway.changes(w.reviewer, project: "net")) {
            $0.action == "merge_request.approval_voided"
        }
        let late = try await w.f.gateway.write(
            w.designer,
            project: "net",
            path: "cab/1.json",
            content: Array(#"{"name":"c1","capacity":99}"#.utf8),
            branch: "dan/cap"
        )
        // The feed tells the reviewer their sign-off no longer stands.
        let event: ChangeEvent? = await voidedEvent.value
        #expect(event?.mergeRequest == mr.request.number && event?.commit == late.commit?.hex && event?.branch == "dan/cap")
        view = try await w.f.gateway.review.mergeRequest(w.designer, project: "net", number: mr.request.number)
        #expect(view.status == "open" && view.approvals == 0 && view.voided == 1)
        await expectError(.approvalRequired) {
            try await w.f.gateway.review.mergeMergeRequest(w.designer, project: "net", number: mr.request.number)
        }
        #expect(try await w.text("cab/1.json").contains("10"))
        // A direct merge into protected main is refused; the request is the way in.
        await expectError(.branchProtected) {
            try await w.f.gateway.history.merge(w.designer, project: "net", source: "dan/cap", into: "main")
        }
    }

    /// Two servers on one store (the PostgreSQL pass): an approval given through one is voided,
    /// and announced, by a commit made through the other.
    @Test(.enabled(if: TestBackend.isPostgres, "needs a shared store")) func anApprovalGivenThroughAnotherServerIsVoidedHere() async throws
    {
        let w = try await world()
        let other = try await TestBackend.reopen(w.f.storage)
        defer { TestBackend.close(other) }
        let b = Gateway(repository: Repository(storage: other), limits: GatewayLimits(requestsPerSecond: 0))
        let following = Task { await b.followOtherServers() }
        defer { following.cancel() }
        // Server b makes the branch and its first commit, learning of no approvals.
        _ = try await b.history.createBranch(w.designer, project: "net", branch: "dan/cap")
        try await b.write(
            w.designer,
            project: "net",
            path: "cab/1.json",
            content: Array(#"{"name":"c1","capacity":20}"#.utf8),
            branch: "dan/cap"
        )
        // Through server a (the fixture's Gateway): the request is opened and approved; b hears it.
        let approvalHeard = Self.firstEvent(try await b.changes(w.reviewer, project: "net")) {
            $0.action.hasPrefix("merge_request.approve")
        }
        let mr = try await w.f.gateway.review.openMergeRequest(
            w.designer,
            project: "net",
            source: "dan/cap",
            target: "main",
            title: "capacity 20"
        )
        #expect(
            try await w.f.gateway.review.review(
                w.reviewer,
                project: "net",
                number: mr.request.number,
                verdict: .approve,
                rationale: "ok at 20"
            )
            .status == "approved"
        )
        #expect(await approvalHeard.value != nil, "server b heard the approval given through a")
        // A commit through b voids it, and b announces that.
        let voidedEvent = Self.firstEvent(try await b.changes(w.reviewer, project: "net")) { $0.action == "merge_request.approval_voided" }
        let late = try await b.write(
            w.designer,
            project: "net",
            path: "cab/1.json",
            content: Array(#"{"name":"c1","capacity":99}"#.utf8),
            branch: "dan/cap"
        )
        let event: ChangeEvent? = await voidedEvent.value
        #expect(event?.mergeRequest == mr.request.number && event?.commit == late.commit?.hex)
        #expect(try await w.f.gateway.review.mergeRequest(w.designer, project: "net", number: mr.request.number).voided == 1)
    }

    /// The first event of `feed` that `matches`, or nil after 10 s.
    static func firstEvent(
        _ feed: AsyncStream<ChangeEvent>,
        where matches: @escaping @Sendable (ChangeEvent) -> Bool
    ) -> Task<ChangeEvent?, Never> {
        let found = Task { () -> ChangeEvent? in
            for await event in feed where matches(event) { return event }
            return nil
        }
        Task {
            try? await Task.sleep(for: .seconds(10))
            found.cancel()
        }
        return found
    }

    @Test func rejectingClosesAndRequestingChangesBlocksTheMerge() async throws {
        let w = try await world()
        _ = try await w.f.gateway.history.createBranch(w.designer, project: "net", branch: "dan/a")
        try await w.f.gateway.write(w.designer, project: "net", path: "a.json", content: Array("{}".utf8), branch: "dan/a")
        let a = try await w.f.gateway.review.openMergeRequest(w.designer, project: "net", source: "dan/a", target: "main", title: "a")
        _ = try await w.f.gateway.review.review(
            w.reviewer,
            project: "net",
            number: a.request.number,
            verdict: .requestChanges,
            rationale: "name it properly"
        )
        await expectError(.approvalRequired) {
            try await w.f.gateway.review.mergeMergeRequest(w.designer, project: "net", number: a.request.number)
        }
        let rejected = try await w.f.gateway.review.review(
            w.reviewer,
            project: "net",
            number: a.request.number,
            verdict: .reject,
            rationale: "not needed"
        )
        #expect(rejected.status == "closed" && rejected.request.closedBy == "user:rita")
        await expectError(.conflict) {
            try await w.f.gateway.review.mergeMergeRequest(w.designer, project: "net", number: a.request.number)
        }
        let page = try await w.f.gateway.review.mergeRequests(w.designer, project: "net", state: .closed)
        #expect(page.mergeRequests.map(\.request.number) == [a.request.number])
    }

    @Test func conflictsAreKeptWithTheRequestUntilEveryHunkIsResolved() async throws {
        let w = try await world()
        _ = try await w.f.gateway.history.createBranch(w.designer, project: "net", branch: "dan/c")
        try await w.f.gateway.write(
            w.designer,
            project: "net",
            path: "cab/1.json",
            content: Array(#"{"name":"c1","capacity":30}"#.utf8),
            branch: "dan/c"
        )
        try await w.f.gateway.write(w.admin, project: "net", path: "cab/1.json", content: Array(#"{"name":"c1","capacity":40}"#.utf8))
        let mr = try await w.f.gateway.review.openMergeRequest(w.designer, project: "net", source: "dan/c", target: "main", title: "c")
        _ = try await w.f.gateway.review.review(w.reviewer, project: "net", number: mr.request.number, verdict: .approve, rationale: "ok")
        guard
            case .conflicts(let kept) = try await w.f.gateway.review.mergeMergeRequest(
                w.designer,
                project: "net",
                number: mr.request.number
            )
        else {
            Issue.record("expected conflicts")
            return
        }
        #expect(kept.unresolved == 1 && kept.request.attempt?.conflicts.first?.hunks.first?.pointer == "/capacity")
        // Stored: a later read shows the same hunks.
        #expect(
            try await w.f.gateway.review.mergeRequest(w.designer, project: "net", number: mr.request.number).request.attempt
                == kept.request.attempt
        )
        guard
            case .merged = try await w.f.gateway.review.mergeMergeRequest(
                w.designer,
                project: "net",
                number: mr.request.number,
                resolutions: ["cab/1.json": ["/capacity": .value(.int(35))]]
            )
        else {
            Issue.record("expected a merge")
            return
        }
        #expect(try await w.text("cab/1.json").contains("35"))
    }

    @Test func aRefusedProposalLeavesNoBranchBehind() async throws {
        let w = try await world()
        let before = try await w.f.gateway.history.branchHeads(w.admin, project: "net").map(\.name)
        await expectError(.editNoMatch) {
            try await w.f.gateway.edit(w.agent, project: "net", path: "cab/1.json", old: "no such text", new: "x")
        }
        #expect(try await w.f.gateway.history.branchHeads(w.admin, project: "net").map(\.name) == before)
        #expect(try await w.f.gateway.review.mergeRequests(w.admin, project: "net").mergeRequests.isEmpty)
    }

    @Test func protectionIsConfigurationInTheStore() async throws {
        let w = try await world()
        // Reject agents' writes to main outright; protect release/* too.
        let config = #"{"branches":{"main":{"agentWrites":"reject","requiredApprovals":2},"release/*":{}}}"#
        try await w.f.gateway.write(w.admin, project: "net", path: ".cairn/protection.json", content: Array(config.utf8))
        await expectError(.branchProtected) {
            try await w.f.gateway.write(w.agent, project: "net", path: "x.json", content: Array("{}".utf8))
        }
        await expectError(.invalidArgument) {
            try await w.f.gateway.write(
                w.admin,
                project: "net",
                path: ".cairn/protection.json",
                content: Array(#"{"branches":{"main":{"agentWrites":"direct"}}}"#.utf8)
            )
        }
        _ = try await w.f.gateway.history.createBranch(w.admin, project: "net", branch: "release/1")
        let out = try await w.f.gateway.write(w.agent, project: "net", path: "x.json", content: Array("{}".utf8), branch: "release/1")
        #expect(out.mergeRequest != nil)
        let view = try await w.f.gateway.review.mergeRequest(w.admin, project: "net", number: try #require(out.mergeRequest))
        #expect(view.requiredApprovals == 1 && view.request.target == "release/1")
    }

    @Test func branchesListAuthorAndDivergenceAndArchivedOnesAreReadOnly() async throws {
        let w = try await world()
        _ = try await w.f.gateway.history.createBranch(w.designer, project: "net", branch: "dan/x")
        for i in 0..<3 {
            try await w.f.gateway.write(w.designer, project: "net", path: "x\(i).json", content: Array("{}".utf8), branch: "dan/x")
        }
        try await w.f.gateway.write(w.admin, project: "net", path: "y.json", content: Array("{}".utf8))
        let list = try await w.f.gateway.history.branches(w.designer, project: "net")
        let x = try #require(list.first { $0.name == "dan/x" })
        #expect(x.author == "user:dan" && x.ahead == 3 && x.behind == 1 && !x.archived)
        // Archiving needs `delete`, which a designer lacks.
        await expectError(.permissionDenied) { try await w.f.gateway.history.archiveBranch(w.designer, project: "net", branch: "dan/x") }
        let archived = try await w.f.gateway.history.archiveBranch(w.admin, project: "net", branch: "dan/x")
        #expect(archived.name == "archive/dan/x")
        await expectError(.branchArchived) {
            try await w.f.gateway.write(w.designer, project: "net", path: "z.json", content: [1], branch: "archive/dan/x")
        }
        #expect(try await w.text("x2.json", at: "archive/dan/x") == "{}")
        let after = try await w.f.gateway.history.branches(w.designer, project: "net")
        #expect(after.contains { $0.name == "archive/dan/x" && $0.archived && $0.ahead == 3 } && !after.contains { $0.name == "dan/x" })
    }

    @Test func listingPagesThroughAFilterWithoutSkippingAny() async throws {
        let w = try await world()
        for i in 1...5 {
            _ = try await w.f.gateway.history.createBranch(w.designer, project: "net", branch: "b\(i)")
            try await w.f.gateway.write(w.designer, project: "net", path: "b\(i).json", content: Array("{}".utf8), branch: "b\(i)")
            _ = try await w.f.gateway.review.openMergeRequest(w.designer, project: "net", source: "b\(i)", target: "main", title: "b\(i)")
        }
        for n in [2, 4] { _ = try await w.f.gateway.review.closeMergeRequest(w.designer, project: "net", number: n) }
        var seen: [Int] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await w.f.gateway.review.mergeRequests(w.designer, project: "net", state: .open, limit: 2, cursor: cursor)
            seen += page.mergeRequests.map(\.request.number)
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 10
        #expect(seen == [1, 3, 5])
        #expect(try await w.f.gateway.review.mergeRequests(w.designer, project: "net", limit: 500).mergeRequests.count == 5)
    }
}
