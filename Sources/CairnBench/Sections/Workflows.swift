import CairnCore
import CairnEngine
import CairnGovernance
@_spi(StoreWrites) import CairnStore
import Foundation

extension Bench {
    /// Workflows (issue 20): how soon a run's first step is answered after its trigger, beside the
    /// same primitive called directly; what 10,000 enabled path watches that do not match cost a
    /// commit; what 1,000 enabled cron workflows cost an idle server.
    func workflows() async throws {
        let runs = quick ? 40 : 200
        let watchers = quick ? 2000 : 10_000
        let crons = 1000
        let idleSeconds = quick ? 5.0 : 10.0
        report.section(
            "Workflows: trigger to first step, path watches per commit, idle schedules",
            "SQLite store in this process (WAL, synchronous=FULL), the Gateway and the engine as `cairn serve` has them. Trigger to "
                + "first step: a manual start of a one-step workflow (a Read) until that Read's answer is recorded (seen on the "
                + "project's change feed), \(runs) runs one after another; peer: the same Read through the Gateway directly. Path "
                + "watches: one-file commits through the Gateway, 300 in a row, with the scheduler running as in a server (each commit "
                + "wakes a round) and \(watchers) enabled workflows watching globs no commit matches; peer: the same commits on the same "
                + "store (its trees hold the same definitions and states) with no scheduler running. Idle: process CPU time over \(Int(idleSeconds)) s with the scheduler running and \(crons) enabled cron "
                + "workflows (none due), beside the same process idle with none."
        )
        // Trigger to first step.
        let (gateway, org, op) = try await governedProject("workflows-latency")
        try await gateway.write(op, project: "bench", path: ".cairn/protection.json", content: Array(#"{"branches": {}}"#.utf8))
        try await gateway.write(op, project: "bench", path: "sites/a.json", content: Array(#"{"capacity": 10}"#.utf8))
        let engine = Engine(gateway: gateway)
        let workflows = Workflows(engine: engine)
        let one =
            #"{"scope": {"role": "designer"}, "triggers": [{"kind": "manual"}], "steps": [{"id": "r", "kind": "Read", "arguments": {"path": "sites/a.json"}}]}"#
        _ = try await workflows.set(op, project: "bench", name: "one", definition: Array(one.utf8))
        _ = try await workflows.enable(op, project: "bench", name: "one")
        let feed = gateway.feed.subscribe(organization: org.id, project: "bench")
        var iterator = feed.makeAsyncIterator()
        var toFirst: [Double] = []
        var direct: [Double] = []
        log("workflows: trigger to first step")
        for _ in 0..<runs {
            let started = ContinuousClock.now
            _ = try await workflows.start(op, project: "bench", name: "one", inputs: [:])
            while let event = await iterator.next() {
                if event.action == "agent.run.call" && event.call == 1 {
                    let d = ContinuousClock.now - started
                    toFirst.append(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
                    break
                }
            }
            // Let the run end before the next one, as a schedule would.
            while workflows.runningCount > 0 { try await Task.sleep(for: .milliseconds(1)) }
            direct.append(try await Measure.seconds { _ = try await gateway.read(op, project: "bench", path: "sites/a.json") })
        }
        let t50 = Self.percentile(toFirst, 0.5)
        let d50 = Self.percentile(direct, 0.5)
        report.row(
            "trigger to first step, p50",
            Measure.ms(t50),
            "the Read called directly, p50",
            Measure.ms(d50),
            Measure.ratio(t50 / d50)
        )
        report.row(
            "trigger to first step, p99",
            Measure.ms(Self.percentile(toFirst, 0.99)),
            "the Read called directly, p99",
            Measure.ms(Self.percentile(direct, 0.99)),
            Measure.ratio(Self.percentile(toFirst, 0.99) / Self.percentile(direct, 0.99))
        )

        // Path watches that never match, against none.
        func commits(_ gateway: Gateway, _ caller: Caller, folder: String) async throws -> [Double] {
            var out: [Double] = []
            for i in 0..<300 {
                out.append(
                    try await Measure.seconds {
                        try await gateway.write(
                            caller,
                            project: "bench",
                            path: "\(folder)/\(i % 50).json",
                            content: Array("{\"v\":\(i)}".utf8)
                        )
                    }
                )
            }
            return out
        }
        log("workflows: path watches, \(watchers) enabled")
        let (watched, watchOrg, watchOp) = try await governedProject("workflows-watch")
        try await enableMany(watched, watchOp, watchOrg, count: watchers) { i in
            #"{"scope": {"role": "designer"}, "triggers": [{"kind": "path", "glob": "zone\#(i)/**", "debounceSeconds": 0}], "#
                + #""steps": [{"id": "g", "kind": "Glob", "arguments": {"pattern": "zone\#(i)/*"}}]}"#
        }
        // The peer: the same commits on the same store (the same 10,000 definitions and states in
        // its trees), with no scheduler running: what the workflows themselves add is the difference.
        let baseline = try await commits(watched, watchOp, folder: "quiet")
        let watchWorkflows = Workflows(engine: Engine(gateway: watched))
        let scheduler = WorkflowScheduler(workflows: watchWorkflows)
        let firstRound = await Measure.seconds { _ = await scheduler.tick() }
        let running = Task { await scheduler.run() }
        try await Task.sleep(for: .milliseconds(500))
        let withWatches = try await commits(watched, watchOp, folder: "work")
        try await Task.sleep(for: .milliseconds(300))
        let round = await Measure.seconds { _ = await scheduler.tick() }
        running.cancel()
        _ = await running.value
        let b50 = Self.percentile(baseline, 0.5)
        let w50 = Self.percentile(withWatches, 0.5)
        report.row(
            "one-file commit, p50, \(watchers) watches enabled",
            Measure.ms(w50),
            "the same commit, same store, no scheduler",
            Measure.ms(b50),
            Measure.ratio(w50 / b50)
        )
        report.row(
            "one-file commit, p99, \(watchers) watches enabled",
            Measure.ms(Self.percentile(withWatches, 0.99)),
            "the same commit, same store, no scheduler",
            Measure.ms(Self.percentile(baseline, 0.99)),
            Measure.ratio(Self.percentile(withWatches, 0.99) / Self.percentile(baseline, 0.99))
        )
        report.note(
            "A scheduler round over the \(watchers) watches after a commit took \(Measure.ms(round)) (the first, reading every "
                + "definition, \(Measure.ms(firstRound))); rounds run beside commits, never inside one."
        )

        // Idle: 1,000 cron workflows, none due.
        log("workflows: idle")
        let (idle, idleOrg, idleOp) = try await governedProject("workflows-idle")
        let quietBefore = Self.cpuSeconds()
        try await Task.sleep(for: .seconds(idleSeconds))
        let quiet = Self.cpuSeconds() - quietBefore
        try await enableMany(idle, idleOp, idleOrg, count: crons) { i in
            #"{"scope": {"role": "viewer"}, "triggers": [{"kind": "cron", "schedule": "\#(i % 60) 3 * * *", "timeZone": "Europe/Helsinki"}], "#
                + #""steps": [{"id": "g", "kind": "Glob", "arguments": {"pattern": "x/*"}}]}"#
        }
        let idleScheduler = WorkflowScheduler(workflows: Workflows(engine: Engine(gateway: idle)))
        let idleTask = Task { await idleScheduler.run() }
        try await Task.sleep(for: .seconds(2))
        let busyBefore = Self.cpuSeconds()
        try await Task.sleep(for: .seconds(idleSeconds))
        let busy = Self.cpuSeconds() - busyBefore
        idleTask.cancel()
        _ = await idleTask.value
        report.row(
            "server CPU between firings, \(crons) cron workflows",
            String(format: "%.2f%%", busy / idleSeconds * 100),
            "the same process, none",
            String(format: "%.2f%%", quiet / idleSeconds * 100),
            String(format: "+%.2f points", (busy - quiet) / idleSeconds * 100)
        )
    }

    /// `count` workflow definitions in one commit, and their states (enabled, watermarks at the
    /// head) written in one commit, as `enable` would leave them one by one.
    func enableMany(_ gateway: Gateway, _ op: Caller, _ org: OrganizationRecord, count: Int, _ definition: (Int) -> String) async throws {
        try await gateway.commit(
            op,
            project: "bench",
            changes: (0..<count).map { .write(path: WorkflowDefinition.path("wf\($0)"), content: Array(definition($0).utf8)) }
        )
        let head = try await gateway.repository.project("bench", organization: org.id).resolve("main").commit.hex
        let now = Clock.nowMillis()
        let encoder = JSONEncoder()
        var changes: [FileChange] = []
        for i in 0..<count {
            var state = WorkflowState(project: "bench", workflow: "wf\(i)")
            state.enabled = true
            state.enabledBy = "bench"
            state.enabledLocally = true
            state.scheduled = ["0": now]
            state.watermarks = ["0": head]
            changes.append(.write(path: "workflow-state/bench/wf\(i).json", content: Array(try encoder.encode(state))))
        }
        let decision = try await gateway.authorize(op, .configure, AccessTarget(project: "bench"), action: "bench")
        _ = try await gateway.updateWorkflow(op, action: "bench.enable", decision: decision, target: AccessTarget(project: "bench")) {
            _,
            _ in
            (changes, ())
        }
    }

    /// A fresh SQLite store with the Gateway, organization `bench`, its operator and project `bench`.
    func governedProject(_ name: String) async throws -> (Gateway, OrganizationRecord, Caller) {
        let (_, repo) = try freshStore(name)
        let gateway = Gateway(repository: repo, limits: GatewayLimits(requestsPerSecond: 0, burst: 0))
        let (org, _) = try await Tenancy.ensure("bench", repository: repo)
        let op = try await gateway.localCaller(organization: org, name: "bench", reason: "set-up")
        _ = try await gateway.createProject(op, name: "bench")
        return (gateway, org, op)
    }

    /// This process's CPU time (user and system), in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
