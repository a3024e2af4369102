import CairnCore
import CairnGovernance
import CairnStore
import Foundation
import Testing

/// The approval queue and shadow rules through the Gateway.
@Suite struct ApprovalQueueTests {
    func world(_ operations: [ApprovalSettings.Operation]) async throws -> (GovernanceFixture, OrganizationRecord, ada: Caller, bob: Caller)
    {
        let f = try await GovernanceFixture()
        let org = try await f.organization("acme")
        let op = f.operatorCaller(org)
        _ = try await f.gateway.access.putMember(op, subject: "user:ada", role: "admin")
        _ = try await f.gateway.access.putMember(op, subject: "user:bob", role: "admin")
        let ada = f.user("ada", in: org)
        let bob = f.user("bob", in: org)
        _ = try await f.gateway.createProject(ada, name: "net")
        try await f.gateway.write(ada, project: "net", path: "a.json", content: Array("{}".utf8))
        _ = try await f.gateway.history.createBranch(ada, project: "net", branch: "old")
        _ = try await f.gateway.access.putApprovalSettings(op, ApprovalSettings(operations: operations))
        return (f, org, ada, bob)
    }

    func pending(_ body: () async throws -> Void) async throws -> PendingApproval {
        do {
            try await body()
        } catch let p as ApprovalPending {
            return p.approval
        }
        throw CairnError(.conflict, "expected the operation to wait for approval")
    }

    @Test func aQueuedBranchDeletionAppliesOnlyOnceAnotherPersonApproves() async throws {
        let (f, org, ada, bob) = try await world([.branchDelete])
        let request = try await pending { try await f.gateway.history.deleteBranch(ada, project: "net", branch: "old") }
        #expect(request.state == .pending && request.requester == "user:ada")
        #expect(try await f.heads(org)["net/old"] != nil, "nothing applied while pending")
        await expectError(.selfApproval) {
            try await f.gateway.review.decideApproval(ada, id: request.id, approve: true, rationale: "mine")
        }
        let done = try await f.gateway.review.decideApproval(bob, id: request.id, approve: true, rationale: "branch is merged and unused")
        #expect(done.state == .applied)
        #expect(try await f.heads(org)["net/old"] == nil)
        let audit = try await f.audit(org).map(\.record)
        let approval = try #require(audit.last { $0.action == "approval.approve" })
        #expect(
            approval.actor == "user:bob" && approval.detail?["requester"] == "user:ada"
                && approval.detail?["rationale"] == "branch is merged and unused"
        )
        let applied = try #require(audit.last { $0.action == "branch.delete" && $0.outcome == "ok" })
        #expect(applied.detail?["approval"] == request.id && applied.detail?["requester"] == "user:ada" && applied.actor == "user:bob")
        #expect(try await f.gateway.review.approvals(bob, state: .applied).approvals.map(\.id) == [request.id])
    }

    @Test func aQueuedAccessChangeRejectedNeverApplies() async throws {
        let (f, _, ada, bob) = try await world([.access])
        let request = try await pending { _ = try await f.gateway.access.putMember(ada, subject: "user:eve", role: "admin") }
        let rejected = try await f.gateway.review.decideApproval(bob, id: request.id, approve: false, rationale: "eve is a contractor")
        #expect(rejected.state == .rejected)
        #expect(try await f.gateway.access.members(ada).contains { $0.subject == "user:eve" } == false)
        await expectError(.conflict) {
            try await f.gateway.review.decideApproval(bob, id: request.id, approve: true, rationale: "changed my mind")
        }
        // Approved, the same kind of change applies, with the approval on its commit.
        let second = try await pending { _ = try await f.gateway.access.putMember(ada, subject: "user:eve", role: "viewer") }
        let applied = try await f.gateway.review.decideApproval(bob, id: second.id, approve: true, rationale: "read-only is fine")
        #expect(applied.state == .applied)
        #expect(try await f.gateway.access.members(ada).contains { $0.subject == "user:eve" && $0.roles == ["viewer"] })
    }

    @Test func anApprovalFailsIfTheReviewedStateMoved() async throws {
        let (f, org, ada, bob) = try await world([.branchDelete])
        let request = try await pending { try await f.gateway.history.deleteBranch(ada, project: "net", branch: "old") }
        try await f.gateway.write(ada, project: "net", path: "late.json", content: Array("{}".utf8), branch: "old")
        let failed = try await f.gateway.review.decideApproval(bob, id: request.id, approve: true, rationale: "ok")
        #expect(failed.state == .failed && (failed.error ?? "").hasPrefix("stale"))
        #expect(try await f.heads(org)["net/old"] != nil, "the moved branch was not deleted")
    }

    @Test func theShadowReportListsDecisionsTheShadowRuleWouldChange() async throws {
        let (f, org, ada, _) = try await world([])
        let op = f.operatorCaller(org)
        _ = try await f.gateway.access.putMember(op, subject: "user:vic", role: "viewer")
        let vic = f.user("vic", in: org)
        // In shadow: vic's viewer membership would become designer; ada would lose read on net.
        _ = try await f.gateway.access.putGrant(
            op,
            Grant(
                id: "vic-designs",
                subject: "user:vic",
                role: "designer",
                target: .organization,
                shadow: true,
                replaces: AccessArea.memberGrantID("user:vic")
            )
        )
        _ = try await f.gateway.access.putGrant(
            op,
            Grant(id: "ada-no-net", subject: "user:ada", role: "viewer", target: .project("net"), effect: .deny, shadow: true)
        )
        await expectError(.permissionDenied) { try await f.gateway.write(vic, project: "net", path: "v.json", content: Array("{}".utf8)) }
        _ = try await f.gateway.read(ada, project: "net", path: "a.json")
        _ = try await f.gateway.read(vic, project: "net", path: "a.json")  // the same under both: not reported
        let report = try await f.gateway.access.shadowReport(ada)
        #expect(report.shadowGrants.map(\.id) == ["ada-no-net", "vic-designs"])
        let vicRow = try #require(report.differences.first { $0.subject == "user:vic" })
        #expect(
            vicRow.authority == "write" && vicRow.enforced == "deny" && vicRow.shadow == "allow" && vicRow.shadowRule == "grant:vic-designs"
                && vicRow.path == "v.json"
        )
        let adaRow = try #require(report.differences.first { $0.subject == "user:ada" && $0.action == "file.read" })
        #expect(adaRow.enforced == "allow" && adaRow.shadow == "deny" && adaRow.shadowRule == "grant:ada-no-net")
        #expect(!report.differences.contains { $0.subject == "user:vic" && $0.authority == "read" })
        // Promoting is an ordinary change: the rule then decides.
        _ = try await f.gateway.access.putGrant(op, Grant(id: "vic-designs", subject: "user:vic", role: "designer", target: .organization))
        try await f.gateway.write(vic, project: "net", path: "v.json", content: Array("{}".utf8))
    }
}
