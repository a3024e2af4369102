import CairnCore
import CairnEngine
import CairnGovernance
import CairnStore
import Foundation
import Testing

/// Path watches (debounced, never fired by the workflow's own commits, once across servers),
/// completion chains with their depth limit, and merge-request events.
@Suite struct WorkflowTriggerTests {
    static let snapper = """
        {"scope": {"role": "designer", "path": "fiber/**"},
         "triggers": [{"kind": "path", "glob": "fiber/cabinets/**", "debounceSeconds": 5}],
         "steps": [{"id": "index", "kind": "Write",
                    "arguments": {"path": "fiber/cabinets/index.json", "content": "{\\"changed\\": {{trigger.paths}}}"}}]}
        """

    static func at(_ f: WorkflowFixture, _ seconds: Double) {
        f.clock.set(WorkflowFixture.date("2027-03-27T12:00:00Z")!.addingTimeInterval(seconds))
    }

    @Test(
        "commits to watched paths fire one run after the debounce window, with every changed path; other paths and its own commits never fire it"
    )
    func pathWatchDebouncesAndNeverLoops() async throws {
        let f = try await WorkflowFixture()
        try await f.define("snap", Self.snapper)
        try await f.write("sites/b.json", "{}")
        Self.at(f, 1)
        #expect(await f.scheduler.tick().fired.isEmpty, "a path outside the glob fired the watch")
        try await f.write("fiber/cabinets/c1.json", #"{"ports": 24}"#)
        Self.at(f, 2)
        let waiting = await f.scheduler.tick()
        #expect(waiting.fired.isEmpty && waiting.next == WorkflowFixture.date("2027-03-27T12:00:07Z"), "\(waiting.next as Any)")
        try await f.write("fiber/cabinets/c2.json", #"{"ports": 48}"#)
        Self.at(f, 4)
        #expect(await f.scheduler.tick().fired.isEmpty)
        Self.at(f, 8)
        let fired = await f.scheduler.tick().fired
        #expect(fired.count == 1)
        let run = try await f.settled("snap", try #require(fired.first?.id))
        #expect(run.status == .succeeded && run.trigger.paths == ["fiber/cabinets/c1.json", "fiber/cabinets/c2.json"], "\(run)")
        #expect(run.trigger.commits?.count == 2)
        #expect(try await f.read("fiber/cabinets/index.json") == #"{"changed": ["fiber/cabinets/c1.json","fiber/cabinets/c2.json"]}"#)
        // Its own merge changed fiber/cabinets/index.json: that never fires it again.
        Self.at(f, 20)
        #expect(await f.scheduler.tick().fired.isEmpty)
        Self.at(f, 40)
        #expect(await f.scheduler.tick().fired.isEmpty)
        #expect(try await f.allRuns("snap").count == 1)
    }

    @Test("two schedulers watching one branch: each commit fires the watch once")
    func pathWatchOnceAcrossServers() async throws {
        let f = try await WorkflowFixture()
        try await f.define(
            "count",
            #"{"scope": {"role": "designer"}, "triggers": [{"kind": "path", "glob": "fiber/**", "debounceSeconds": 0}], "steps": [{"id": "g", "kind": "Glob", "arguments": {"pattern": "fiber/**"}}]}"#
        )
        let other = Gateway(repository: Repository(storage: f.storage), limits: GatewayLimits(requestsPerSecond: 0))
        let otherScheduler = WorkflowScheduler(workflows: Workflows(engine: Engine(gateway: other), clock: f.clock))
        var fired = 0
        for i in 0..<10 {
            try await f.write("fiber/f\(i).json", "{}")
            Self.at(f, Double(i + 1))
            async let a = f.scheduler.tick()
            async let b = otherScheduler.tick()
            let (ra, rb) = await (a, b)
            fired += ra.fired.count + rb.fired.count
        }
        #expect(fired == 10)
        let runs = try await f.allRuns("count")
        #expect(runs.count == 10 && Set(runs.flatMap { $0.trigger.paths ?? [] }).count == 10, "\(runs.map(\.trigger))")
        for r in runs { _ = try await f.settled("count", r.id) }
    }

    @Test("completion chains: B runs when A succeeds, A when B does; the chain stops at the depth limit, saying so")
    func completionChainStopsAtDepth() async throws {
        let f = try await WorkflowFixture()
        func definition(after other: String) -> String {
            """
            {"scope": {"role": "designer"}, "triggers": [{"kind": "manual"}, {"kind": "workflow", "workflow": "\(other)", "outcomes": ["succeeded"]}],
             "steps": [{"id": "g", "kind": "Glob", "arguments": {"pattern": "sites/*"}}]}
            """
        }
        try await f.define("ping", definition(after: "pong"))
        try await f.define("pong", definition(after: "ping"))
        _ = try await f.workflows.start(f.ada, project: "city", name: "ping", inputs: [:], wait: true)
        var runs: [WorkflowRun] = []
        for _ in 0..<500 {
            runs = try await f.allRuns("ping") + f.allRuns("pong")
            if runs.contains(where: { $0.status == .skipped }) && runs.allSatisfy({ $0.finished != nil }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let depths = runs.filter { $0.status == .succeeded }.compactMap(\.depth).sorted()
        #expect(depths == Array(0...WorkflowDefinition.maxChainDepth), "\(depths)")
        let stopped = try #require(runs.first { $0.status == .skipped })
        #expect(stopped.depth == WorkflowDefinition.maxChainDepth + 1 && stopped.failure?.contains("depth limit") == true, "\(stopped)")
        #expect(stopped.trigger.kind == "workflow" && stopped.trigger.outcome == "succeeded")
    }

    @Test("a merge request opened on the target fires the workflow with its number; a commit on its source and its approval fire it again")
    func mergeRequestEvents() async throws {
        let f = try await WorkflowFixture()
        try await f.define(
            "check",
            #"{"scope": {"role": "designer"}, "triggers": [{"kind": "mergeRequest", "events": ["opened", "updated", "approved"]}], "steps": [{"id": "g", "kind": "Glob", "arguments": {"pattern": "sites/*"}}]}"#
        )
        let follower = Task { await f.workflows.follow(f.gateway.feed) {} }
        defer { follower.cancel() }
        try await Task.sleep(for: .milliseconds(50))
        _ = try await f.gateway.history.createBranch(f.ada, project: "city", branch: "draft", from: "main")
        _ = try await f.gateway.write(f.ada, project: "city", path: "sites/c.json", content: Array("{}".utf8), branch: "draft")
        let opened = try await f.gateway.review.openMergeRequest(f.ada, project: "city", source: "draft", target: "main", title: "c")
        try await Task.sleep(for: .milliseconds(200))
        _ = try await f.gateway.write(f.ada, project: "city", path: "sites/d.json", content: Array("{}".utf8), branch: "draft")
        try await Task.sleep(for: .milliseconds(200))
        let op = Caller(principal: .localOperator, organization: f.org, reason: "setup")
        _ = try await f.gateway.access.putMember(op, subject: "user:rita", role: "reviewer")
        _ = try await f.gateway.review.review(
            WorkflowFixture.user("rita", f.org),
            project: "city",
            number: opened.request.number,
            verdict: .approve,
            rationale: "fine"
        )
        var runs: [WorkflowRun] = []
        for _ in 0..<500 {
            runs = try await f.allRuns("check")
            if runs.count >= 3 && runs.allSatisfy({ $0.finished != nil }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(runs.map(\.trigger.event) == ["opened", "updated", "approved"], "\(runs.map(\.trigger))")
        #expect(runs.allSatisfy { $0.trigger.mergeRequest == opened.request.number && $0.status == .succeeded })
    }
}
