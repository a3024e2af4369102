import CairnCore
import CairnEngine
import CairnGovernance
import CairnStore
import Foundation
import Testing

/// Cron triggers on a clock the test moves: catch-up after downtime by each policy, a DST day,
/// overlap policies, and exactly-once firing with two schedulers on one store.
@Suite struct WorkflowSchedulerTests {
    static func cron(
        _ schedule: String,
        zone: String = "UTC",
        catchUp: String = "skip",
        overlap: String = "skip",
        steps: String? = nil
    )
        -> String
    {
        """
        {"scope": {"role": "designer"},
         "triggers": [{"kind": "cron", "schedule": "\(schedule)", "timeZone": "\(zone)", "catchUp": "\(catchUp)", "overlap": "\(overlap)"}],
         "steps": \(steps ?? #"[{"id": "look", "kind": "Glob", "arguments": {"pattern": "sites/*.json"}}]"#),
         "onFailure": "continue"}
        """
    }

    static func settleAll(_ f: WorkflowFixture, _ name: String) async throws -> [WorkflowRun] {
        var out: [WorkflowRun] = []
        for r in try await f.allRuns(name) { out.append(r.status == .skipped ? r : try await f.settled(name, r.id)) }
        return out
    }

    @Test("after five hours down: catch-up skip fires nothing, one fires the latest, all fires each; then each fires on time once")
    func catchUpPolicies() async throws {
        let f = try await WorkflowFixture()
        for policy in ["skip", "one", "all"] { try await f.define("hourly-\(policy)", Self.cron("0 * * * *", catchUp: policy)) }
        // Enabled at 12:00Z; the server is down until 17:10Z: 13:00 … 17:00 were missed.
        f.clock.set(try #require(WorkflowFixture.date("2027-03-27T17:10:00Z")))
        let round = await f.scheduler.tick()
        #expect(round.fired.filter { $0.workflow == "hourly-skip" }.isEmpty)
        #expect(round.fired.filter { $0.workflow == "hourly-one" }.map(\.trigger.scheduledFor) == ["2027-03-27T17:00:00.000Z"])
        #expect(round.fired.filter { $0.workflow == "hourly-all" }.count == 5)
        #expect(round.next == WorkflowFixture.date("2027-03-27T18:00:00Z"))
        // Nothing more is due until 18:00; a round now fires nothing twice.
        #expect(await f.scheduler.tick().fired.isEmpty)
        for policy in ["one", "all"] { _ = try await Self.settleAll(f, "hourly-\(policy)") }
        f.clock.set(try #require(WorkflowFixture.date("2027-03-27T18:00:05Z")))
        let onTime = await f.scheduler.tick()
        #expect(onTime.fired.map(\.workflow).sorted() == ["hourly-all", "hourly-one", "hourly-skip"])
        for policy in ["skip", "one", "all"] {
            let runs = try await Self.settleAll(f, "hourly-\(policy)")
            #expect(runs.allSatisfy { $0.status == .succeeded && $0.steps.first?.outcome == .succeeded }, "\(runs)")
        }
    }

    @Test("03:30 Europe/Helsinki on the spring-forward day (a time that does not exist) runs once; the day after, once")
    func dstDayRunsOnce() async throws {
        let f = try await WorkflowFixture(start: "2027-03-27T12:00:00Z")
        try await f.define("early", Self.cron("30 3 * * *", zone: "Europe/Helsinki"))
        let end = try #require(WorkflowFixture.date("2027-03-29T12:00:00Z"))
        var fired: [WorkflowRun] = []
        // As the scheduler does: a round, then sleep until the next firing it computed.
        var round = await f.scheduler.tick()
        while let next = round.next, next < end {
            f.clock.set(next.addingTimeInterval(1))
            round = await f.scheduler.tick()
            fired += round.fired
            _ = try await Self.settleAll(f, "early")
        }
        let days = fired.compactMap(\.trigger.scheduledFor).map { String($0.prefix(10)) }
        #expect(days == ["2027-03-28", "2027-03-29"], "\(fired.map(\.trigger))")
        #expect(fired.count == 2)
        _ = try await Self.settleAll(f, "early")
    }

    @Test("overlap: skip records the firing as skipped, queue runs it after, cancel ends the earlier run by its failure policy")
    func overlapPolicies() async throws {
        let f = try await WorkflowFixture()
        // One slow step: a read of a missing file, retried once after 1.5 s.
        let slow = #"[{"id": "wait", "kind": "Read", "arguments": {"path": "missing.json"}, "retry": {"count": 1, "backoffSeconds": 1.5}}]"#
        for overlap in ["skip", "queue", "cancel"] {
            try await f.define("minutely-\(overlap)", Self.cron("* * * * *", overlap: overlap, steps: slow))
        }
        f.clock.set(try #require(WorkflowFixture.date("2027-03-27T12:01:00Z")))
        #expect(await f.scheduler.tick().fired.count == 3)
        f.clock.set(try #require(WorkflowFixture.date("2027-03-27T12:02:00Z")))
        let second = await f.scheduler.tick()
        #expect(second.skipped.map(\.workflow) == ["minutely-skip"])
        #expect(Set(second.fired.map(\.workflow)) == ["minutely-queue", "minutely-cancel"])

        let skip = try await Self.settleAll(f, "minutely-skip")
        #expect(skip.map(\.status) == [.failed, .skipped], "\(skip)")
        #expect(skip[1].failure?.contains("overlap: skip") == true)

        let queue = try await Self.settleAll(f, "minutely-queue")
        #expect(queue.count == 2 && queue.allSatisfy { $0.steps.first?.attempts == 2 }, "\(queue)")
        // Queued: the second started only after the first had finished.
        let firstEnd = try #require(queue[0].finished.flatMap(Clock.parseRFC3339))
        let secondRun = try await f.gateway.agentRun(f.ada, project: "city", id: try #require(queue[1].run))
        #expect(try #require(Clock.parseRFC3339(secondRun.started)) >= firstEnd)

        let cancel = try await Self.settleAll(f, "minutely-cancel")
        #expect(cancel[0].status == .cancelled, "\(cancel)")
        #expect(cancel[1].status == .failed && cancel[1].steps.first?.attempts == 2, "\(cancel)")
    }

    @Test("two schedulers on one store, each with its own gateway: 100 minutely firings, each run exactly once")
    func twoSchedulersFireOnce() async throws {
        let f = try await WorkflowFixture()
        // Queue: a firing that comes while a run is going is not dropped, so every one runs.
        try await f.define("tick", Self.cron("* * * * *", overlap: "queue"))
        // A second server: its own gateway, engine and scheduler over the same store.
        let other = Gateway(repository: Repository(storage: f.storage), limits: GatewayLimits(requestsPerSecond: 0))
        let otherScheduler = WorkflowScheduler(workflows: Workflows(engine: Engine(gateway: other), clock: f.clock))
        var instant = try #require(WorkflowFixture.date("2027-03-27T12:00:30Z"))
        var firedHere = 0
        var firedThere = 0
        for _ in 0..<100 {
            instant = instant.addingTimeInterval(60)
            f.clock.set(instant)
            async let a = f.scheduler.tick()
            async let b = otherScheduler.tick()
            let (ra, rb) = await (a, b)
            firedHere += ra.fired.count
            firedThere += rb.fired.count
        }
        #expect(firedHere + firedThere == 100)
        let runs = try await Self.settleAll(f, "tick")
        #expect(runs.count == 100)
        #expect(Set(runs.compactMap(\.trigger.scheduledFor)).count == 100)
        #expect(runs.allSatisfy { $0.status == .succeeded }, "\(runs.filter { $0.status != .succeeded })")
        // Each firing's engine run ran once: one engine run per firing, none shared.
        #expect(Set(runs.compactMap(\.run)).count == 100)
    }

    @Test(
        "an engine run ended under a live workflow run ends it at once (no retry waits); a run whose server died is ended by another server's periodic check"
    )
    func endedEngineRunsEndWorkflowRuns() async throws {
        let f = try await WorkflowFixture()
        try await f.write(".cairn/workflows/slow.json", Self.slowDefinition)
        _ = try await f.workflows.enable(f.ada, project: "city", name: "slow")
        let started = try await f.workflows.start(f.ada, project: "city", name: "slow", inputs: [:])
        for _ in 0..<1000 {
            if try await f.workflows.run(f.ada, project: "city", name: "slow", id: started.id).steps.count == 1 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        // Its engine run is ended under it (as a lease sweep would): the run fails now, saying so,
        // instead of waiting out its step's 600 s retry.
        await f.engine.abandonAll(why: "its lease was taken over")
        let ended = try await f.settled("slow", started.id)
        #expect(ended.status == .failed && (ended.failure ?? "").contains("ended"), "\(ended)")

        // A run whose server died: recorded running, its engine run over, nobody executing it.
        let session = try await f.engine.start(f.ada, project: "city")
        let orphanRun = await f.engine.stop(session, why: "its server died")
        let id = Gateway.runID()
        let record = """
            {"id": "\(id)", "project": "city", "workflow": "slow", "trigger": {"kind": "manual"}, "inputs": {}, "status": "running",
             "run": "\(orphanRun.id)", "steps": [], "created": "\(Clock.rfc3339(Clock.nowMillis()))"}
            """
        let op = Caller(principal: .localOperator, organization: f.org, reason: "a server that died")
        let decision = try await f.gateway.authorize(op, .configure, AccessTarget(project: "city"), action: "test")
        _ = try await f.gateway.updateWorkflow(op, action: "workflow.run.claim", decision: decision, target: AccessTarget(project: "city"))
        { _, _ in
            (
                [
                    .write(path: "workflow-runs/city/slow/\(id).json", content: Array(record.utf8)),
                    .write(path: "workflow-running/city/slow/\(id).json", content: Array("{}".utf8)),
                ], ()
            )
        }
        let other = Gateway(repository: Repository(storage: f.storage), limits: GatewayLimits(requestsPerSecond: 0))
        await WorkflowScheduler(workflows: Workflows(engine: Engine(gateway: other), clock: f.clock)).recoverRunning()
        let recovered = try await f.workflows.run(f.ada, project: "city", name: "slow", id: id)
        #expect(recovered.status == .failed && recovered.failure?.contains("stopped") == true, "\(recovered)")
    }

    static let slowDefinition = """
        {"scope": {"role": "designer"}, "triggers": [{"kind": "manual"}], "onFailure": "keep",
         "steps": [{"id": "w", "kind": "Write", "arguments": {"path": "plans/s.json", "content": "{}"}},
                   {"id": "wait", "kind": "Read", "arguments": {"path": "missing.json"}, "retry": {"count": 1, "backoffSeconds": 600}}]}
        """

    @Test("a firing recorded but never started (its server stopped) starts once at recovery, even when two servers recover")
    func firedButNotStartedRunsOnce() async throws {
        let f = try await WorkflowFixture()
        try await f.define("tick", Self.cron("* * * * *"))
        // A firing recorded as the scheduler records it (state and record in one commit), by a
        // server that stopped before the run started: the record is all that is left.
        let id = Gateway.runID()
        let record = """
            {"id": "\(id)", "project": "city", "workflow": "tick", "trigger": {"kind": "cron", "scheduledFor": "2027-03-27T12:01:00.000Z"},
             "inputs": {}, "status": "fired", "steps": [], "created": "2027-03-27T12:01:00.000Z"}
            """
        let op = Caller(principal: .localOperator, organization: f.org, reason: "a server that stopped")
        let decision = try await f.gateway.authorize(op, .configure, AccessTarget(project: "city"), action: "test")
        _ = try await f.gateway.updateWorkflow(op, action: "workflow.run.fire", decision: decision, target: AccessTarget(project: "city")) {
            _,
            _ in
            ([.write(path: "workflow-runs/city/tick/\(id).json", content: Array(record.utf8))], ())
        }
        let other = Gateway(repository: Repository(storage: f.storage), limits: GatewayLimits(requestsPerSecond: 0))
        let otherWorkflows = Workflows(engine: Engine(gateway: other), clock: f.clock)
        async let a: Void = f.scheduler.recover()
        async let b: Void = WorkflowScheduler(workflows: otherWorkflows).recover()
        _ = await (a, b)
        let run = try await f.settled("tick", id)
        #expect(run.status == .succeeded && run.run != nil, "\(run)")
        let engineRuns = try await f.gateway.agentRuns(f.ada, project: "city", limit: 500)
        #expect(engineRuns.runs.count == 1, "\(engineRuns.runs.map(\.id))")
    }
}
