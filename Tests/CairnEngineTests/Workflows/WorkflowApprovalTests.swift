import CairnCore
import CairnEngine
import CairnGovernance
import CairnStore
import Foundation
import Testing

/// The approval step: the run pauses holding nothing, the request waits in the approval queue
/// with the run's changes so far; a person other than the enabler decides; approval continues
/// the run, rejection and expiry end it by its failure policy.
@Suite struct WorkflowApprovalTests {
    static let gated = """
        {"scope": {"role": "designer"}, "triggers": [{"kind": "manual"}], "onFailure": "rollback",
         "steps": [
           {"id": "draft", "kind": "Write", "arguments": {"path": "routes/plan.json", "content": "{\\"crews\\": 3}"}},
           {"id": "signoff", "kind": "approval", "summary": "publish the plan of run {{run.id}}", "expiresSeconds": 3600},
           {"id": "publish", "kind": "Write", "arguments": {"path": "routes/published.json", "content": "{}"}}
         ]}
        """

    static func paused(_ f: WorkflowFixture, _ name: String, _ id: String) async throws -> WorkflowRun {
        for _ in 0..<1000 {
            let r = try await f.workflows.run(f.ada, project: "city", name: name, id: id)
            if r.status == .paused { return r }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw CairnError(.timeout, "run \(id) did not pause")
    }

    static func reviewer(_ f: WorkflowFixture) async throws -> Caller {
        let op = Caller(principal: .localOperator, organization: f.org, reason: "setup")
        _ = try await f.gateway.access.putMember(op, subject: "user:rita", role: "reviewer")
        return WorkflowFixture.user("rita", f.org)
    }

    @Test("approve: the paused run holds no task or session, the enabler may not approve, another person's approval continues it to main")
    func approveContinues() async throws {
        let f = try await WorkflowFixture()
        try await f.define("gated", Self.gated)
        let rita = try await Self.reviewer(f)
        let started = try await f.workflows.start(f.ada, project: "city", name: "gated", inputs: [:], wait: true)
        #expect(started.status == .paused, "\(started)")
        let paused = try await Self.paused(f, "gated", started.id)
        // Nothing held while it waits: no run in progress, no engine session.
        #expect(f.workflows.runningCount == 0 && f.engine.liveCount == 0)
        let approvalID = try #require(paused.approval)
        let queued = try await f.gateway.review.approval(rita, id: approvalID)
        #expect(queued.summary == "publish the plan of run \(started.id)" && queued.state == .pending)
        // The run's changes so far are on the branch the request names, for review as a diff.
        let branch = try #require(queued.detail?["runBranch"])
        #expect(try await f.read("routes/plan.json", at: branch) == #"{"crews": 3}"#)
        #expect(try await f.read("routes/plan.json") == nil)
        // Ada enabled the workflow: four eyes, she may not approve its step.
        await #expect(throws: CairnError.self) {
            try await f.gateway.review.decideApproval(f.ada, id: approvalID, approve: true, rationale: "mine")
        }
        _ = try await f.gateway.review.decideApproval(rita, id: approvalID, approve: true, rationale: "checked the plan")
        let round = await f.scheduler.tick()
        #expect(round.fired.map(\.id) == [started.id])
        let done = try await f.settled("gated", started.id)
        #expect(done.status == .succeeded && done.outcome == "merged", "\(done)")
        #expect(done.steps.map(\.id) == ["draft", "signoff", "publish"])
        #expect(try await f.read("routes/plan.json") == #"{"crews": 3}"#)
        #expect(try await f.read("routes/published.json") == "{}")
        // The paused engine run's branch went: its change merged with the continuation.
        await #expect(throws: CairnError.self) { try await f.read("routes/plan.json", at: branch) }
    }

    @Test("reject and expiry end the run by its failure policy: rollback leaves main's tree exactly as before")
    func rejectAndExpire() async throws {
        let f = try await WorkflowFixture()
        try await f.define("gated", Self.gated)
        let rita = try await Self.reviewer(f)
        let before = try await f.tree()
        let first = try await f.workflows.start(f.ada, project: "city", name: "gated", inputs: [:], wait: true)
        let approval = try #require(try await Self.paused(f, "gated", first.id).approval)
        _ = try await f.gateway.review.decideApproval(rita, id: approval, approve: false, rationale: "wrong crews")
        _ = await f.scheduler.tick()
        let rejected = try await f.settled("gated", first.id)
        #expect(
            rejected.status == .failed && rejected.failure?.contains("wrong crews") == true && rejected.outcome == "rolled_back",
            "\(rejected)"
        )
        #expect(try await f.tree() == before)

        let second = try await f.workflows.start(f.ada, project: "city", name: "gated", inputs: [:], wait: true)
        _ = try await Self.paused(f, "gated", second.id)
        // Not yet: the request waits, and the round says when it lapses.
        let waiting = await f.scheduler.tick()
        #expect(waiting.next != nil && waiting.fired.isEmpty)
        f.clock.set(f.clock.now().addingTimeInterval(3601))
        _ = await f.scheduler.tick()
        let expired = try await f.settled("gated", second.id)
        #expect(expired.status == .failed && expired.failure?.contains("expired") == true, "\(expired)")
        #expect(try await f.tree() == before)
        let lapsed = try await f.gateway.review.approval(rita, id: try #require(expired.approval))
        #expect(lapsed.state == .failed)

        // Cancelled while it waits: ended at once, by the failure policy.
        let third = try await f.workflows.start(f.ada, project: "city", name: "gated", inputs: [:], wait: true)
        _ = try await Self.paused(f, "gated", third.id)
        let cancelled = try await f.workflows.cancel(f.ada, project: "city", name: "gated", id: third.id)
        #expect(cancelled.status == .cancelled && cancelled.outcome == "rolled_back", "\(cancelled)")
        #expect(try await f.tree() == before)
        _ = await f.scheduler.tick()
        #expect(try await f.workflows.run(f.ada, project: "city", name: "gated", id: third.id).status == .cancelled)
    }
}
