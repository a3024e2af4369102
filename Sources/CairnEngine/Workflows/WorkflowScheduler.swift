import CairnCore
import CairnGovernance
@_spi(StoreWrites) import CairnStore
import Foundation
import Synchronization

/// Fires cron triggers. Each firing is recorded, with the schedule's progress, in one commit
/// that is based on the state it read (compare-and-swap in the store): when two servers see the
/// same firing, one commit lands and the other, finding the state moved, fires nothing. The run
/// then starts from that record (`Workflows.execute` claims it, again by compare-and-swap), so
/// a crash between firing and start leaves a `fired` record that `recover` starts once.
///
/// No polling: after each round it sleeps until the earliest next firing it computed, or until
/// `poke` (a definition enabled, changed or resumed here), capped at `rescanSeconds` so what
/// another server enabled is seen too.
public actor WorkflowScheduler {
    public let workflows: Workflows
    /// A firing later than this after its time is late: the catch-up policy decides it.
    public let graceSeconds: Double
    public let rescanSeconds: Double
    private var wake: CheckedContinuation<Void, Never>?
    private var poked = false
    /// Each organization's workflow states, as of the workflow store's head they were read at.
    struct StateCache {
        var head: String
        var byPath: [String: WorkflowState]
        var list: [WorkflowState]
        var version: Int
    }
    var stateCache: [Int64: StateCache] = [:]
    /// Each project's enabled workflows, as of the states' and definitions' versions.
    var enabledCache: [String: ProjectWorkflows] = [:]
    /// Each organization's projects with an enabled workflow, and those workflows' states.
    var projectsCache: [Int64: (version: Int, projects: [String], states: [WorkflowState])] = [:]
    /// Each watched branch's watches, indexed, and the commit they were all looked at up to.
    var groups: [String: WatchGroup] = [:]
    /// Path watches: since when matching commits wait for their debounce window to close.
    var pending: [String: Date] = [:]
    /// When the in-progress index is next looked at (monotonic ns), and how often.
    var nextRunningCheck: UInt64 = 0
    public var runningCheckSeconds: Double = 300
    /// Runs left running by a stopped server whose engine run was still live at start-up.
    var orphans: [(OrganizationRecord, String)] = []
    /// Path watches' globs, compiled.
    var globs: [String: Glob] = [:]
    /// The paths and authors of commits already looked at (commits never change).
    var commitFacts: [String: (author: String, paths: [String])] = [:]

    public init(workflows: Workflows, graceSeconds: Double = 60, rescanSeconds: Double = 60) {
        self.workflows = workflows
        self.graceSeconds = graceSeconds
        self.rescanSeconds = rescanSeconds
    }

    var clock: any WorkflowClock { workflows.clock }
    var gateway: Gateway { workflows.gateway }

    /// What one round did.
    public struct Round: Sendable {
        /// The runs it fired (started in the background) and the firings it recorded as skipped.
        public var fired: [WorkflowRun] = []
        public var skipped: [WorkflowRun] = []
        /// The earliest firing still to come.
        public var next: Date?
    }

    /// Rounds until the task is cancelled (the server stops).
    public func run() async {
        // The engine first ends the runs of servers that died, so recovery sees which workflow
        // runs lost their engine run.
        await workflows.engine.renewAndSweep()
        await recover()
        let follower = Task { [workflows] in
            await workflows.follow(workflows.gateway.feed) { await self.poke() }
        }
        defer { follower.cancel() }
        while !Task.isCancelled {
            let started = DispatchTime.now().uptimeNanoseconds
            await recheckOrphans()
            if DispatchTime.now().uptimeNanoseconds >= nextRunningCheck {
                nextRunningCheck = DispatchTime.now().uptimeNanoseconds + UInt64(runningCheckSeconds * 1e9)
                await recoverRunning()
            }
            var round = await tick()
            if !orphans.isEmpty {
                let soon = clock.now().addingTimeInterval(max(1, Double(workflows.engine.leaseMillis) / 3000))
                round.next = min(round.next ?? soon, soon)
            }
            let now = clock.now()
            let until = min(round.next ?? now.addingTimeInterval(rescanSeconds), now.addingTimeInterval(rescanSeconds))
            await sleep(until: until)
            // Commits wake a round; a busy server gets at most one round per quarter second.
            let spent = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            if spent < 0.25 { try? await Task.sleep(for: .milliseconds(Int64((0.25 - spent) * 1000))) }
        }
    }

    /// Wakes the scheduler for a new round now.
    public func poke() {
        poked = true
        wake?.resume()
        wake = nil
    }

    private func sleep(until instant: Date) async {
        if poked {
            poked = false
            return
        }
        let clock = self.clock
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(until: instant) }
            group.addTask { await self.waitForPoke() }
            _ = await group.next()
            group.cancelAll()
            self.poke()
            await group.waitForAll()
        }
        poked = false
    }

    private func waitForPoke() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                if poked {
                    c.resume()
                } else {
                    wake = c
                }
            }
        } onCancel: {
            Task { await self.poke() }
        }
    }

    /// One round at the clock's now: every enabled workflow's due firings, by its policies.
    public func tick() async -> Round {
        var round = Round()
        let now = clock.now()
        let organizations: [OrganizationRecord]
        do {
            organizations = try await gateway.repository.storage.organizations()
        } catch {
            workflows.logger.warning("the scheduler could not list organizations", metadata: ["error": "\(error)"])
            return round
        }
        for org in organizations {
            do {
                let (all, version) = try await states(org)
                if projectsCache[org.id]?.version != version {
                    let enabled = all.filter(\.enabled)
                    projectsCache[org.id] = (version, Set(enabled.map(\.project)).sorted(), enabled)
                }
                guard let (_, projects, states) = projectsCache[org.id] else { continue }
                for project in projects {
                    let found = try await projectWorkflows(org, project: project, states: states, version: version)
                    for e in found.crons { await consider(org, e, now: now, into: &round) }
                    await watch(org, project: project, found, now: now, into: &round)
                }
                await resumePaused(org, now: now, into: &round)
            } catch {
                workflows.logger.warning(
                    "the scheduler could not read workflows",
                    metadata: ["organization": "\(org.name)", "error": "\(error)"]
                )
            }
        }
        return round
    }

    /// Every workflow state of an organization, and a version that changes when any of them
    /// does. Kept between rounds: when the workflow store moved, only the state files a tree
    /// diff names are read again (run records written meanwhile cost nothing here).
    func states(_ org: OrganizationRecord) async throws -> (states: [WorkflowState], version: Int) {
        let workflow = try await gateway.workflowProject(org)
        let head = try await workflow.resolve("main").commit.hex
        if var known = stateCache[org.id] {
            if known.head == head { return (known.list, known.version) }
            let diff = try await workflow.diff(from: known.head, to: head, json: false, limit: 10_000)
            if diff.next == nil {
                let changed = diff.files.filter { $0.path.hasPrefix("workflow-state/") }
                for file in changed {
                    if file.after == nil {
                        known.byPath[file.path] = nil
                    } else {
                        let (_, _, bytes) = try await workflow.readBytes(file.path, at: head)
                        known.byPath[file.path] = try? JSONDecoder().decode(WorkflowState.self, from: Data(bytes))
                    }
                }
                known.head = head
                if !changed.isEmpty {
                    known.version += 1
                    known.list = known.byPath.keys.sorted().compactMap { known.byPath[$0] }
                }
                stateCache[org.id] = known
                return (known.list, known.version)
            }
        }
        var byPath: [String: WorkflowState] = [:]
        var after: String?
        repeat {
            let page = try await workflow.glob("workflow-state/**", at: head, limit: 5000, after: after)
            for path in page.paths {
                let (_, _, bytes) = try await workflow.readBytes(path, at: head)
                byPath[path] = try? JSONDecoder().decode(WorkflowState.self, from: Data(bytes))
            }
            after = page.next
        } while after != nil
        let version = (stateCache[org.id]?.version ?? 0) + 1
        let list = byPath.keys.sorted().compactMap { byPath[$0] }
        stateCache[org.id] = StateCache(head: head, byPath: byPath, list: list, version: version)
        return (list, version)
    }

    /// A project's enabled workflows as a round uses them (those with schedules; the path
    /// watches by branch), built again only when a state or a definition changed: a round on an
    /// unchanged set of workflows does no work per workflow.
    struct ProjectWorkflows {
        let states: Int
        let definitions: Int
        let crons: [Workflows.Enabled]
        let watches: [(branch: String, entries: [(Workflows.Enabled, Int, WorkflowDefinition.PathTrigger)])]
        var signature: String { "\(states)/\(definitions)" }
    }

    func projectWorkflows(
        _ org: OrganizationRecord,
        project: String,
        states: [WorkflowState],
        version: Int
    ) async throws -> ProjectWorkflows {
        let key = "\(org.id)/\(project)"
        let definitions = try await workflows.definitionsVersion(org, project: project)
        if let known = enabledCache[key], known.states == version, known.definitions == definitions { return known }
        let list = try await workflows.enabled(org, project: project, states: states.filter { $0.project == project })
        var byBranch: [String: [(Workflows.Enabled, Int, WorkflowDefinition.PathTrigger)]] = [:]
        for e in list where !e.state.paused {
            for (index, trigger) in e.definition.watches { byBranch[trigger.branch, default: []].append((e, index, trigger)) }
        }
        let found = ProjectWorkflows(
            states: version,
            definitions: definitions,
            crons: list.filter { !$0.definition.schedules.isEmpty },
            watches: byBranch.keys.sorted().map { ($0, byBranch[$0]!) }
        )
        enabledCache[key] = found
        return found
    }

    func consider(_ org: OrganizationRecord, _ e: Workflows.Enabled, now: Date, into round: inout Round) async {
        let state = e.state
        let definition = e.definition
        for (index, trigger) in definition.triggers.enumerated() {
            guard case .cron(let cron) = trigger else { continue }
            let key = String(index)
            let last = state.scheduled[key].map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? now
            var due: [Date] = []
            var t = cron.schedule.next(after: last)
            while let at = t, at <= now {
                due.append(at)
                if due.count > 100_000 { break }
                t = cron.schedule.next(after: at)
            }
            if let t { round.next = min(round.next ?? t, t) }
            guard let latest = due.last else { continue }
            let onTime = due.filter { now.timeIntervalSince($0) <= graceSeconds }
            var chosen: [Date]
            switch cron.catchUp {
            case .skip: chosen = onTime
            case .one: chosen = [latest]
            case .all: chosen = due.filter { now.timeIntervalSince($0) <= Double(cron.catchUpWindowSeconds) }.suffix(1000).map { $0 }
            }
            let running = workflows.active.withLock { Array(($0[Workflows.key(org, state.project, state.workflow)] ?? [:]).values) }
            var skipWhy: String?
            if state.paused {
                skipWhy = "paused"
            } else if cron.overlap == .skip && !running.isEmpty {
                skipWhy = "an earlier run was still going (overlap: skip)"
            }
            await fire(
                org,
                e,
                index: key,
                last: last,
                through: latest,
                chosen: chosen,
                skipWhy: skipWhy,
                overlap: cron.overlap,
                running: running,
                into: &round
            )
        }
    }

    func fire(
        _ org: OrganizationRecord,
        _ e: Workflows.Enabled,
        index: String,
        last: Date,
        through latest: Date,
        chosen: [Date],
        skipWhy: String?,
        overlap: WorkflowDefinition.CronTrigger.Overlap,
        running: [Workflows.Active],
        into round: inout Round
    ) async {
        let project = e.state.project
        let name = e.state.workflow
        let records: [WorkflowRun] = chosen.map { at in
            workflows.firing(
                e,
                project: project,
                trigger: WorkflowRun.Trigger(kind: "cron", scheduledFor: Clock.rfc3339(Int64(at.timeIntervalSince1970 * 1000))),
                depth: 0,
                skip: skipWhy
            )
        }
        let statePath = Workflow.workflowState(project, name)
        let lastMillis = Int64(last.timeIntervalSince1970 * 1000)
        let latestMillis = Int64(latest.timeIntervalSince1970 * 1000)
        let written: Bool
        let gateway = self.gateway
        do {
            let system = workflows.system(org, "schedule of workflow \(name)")
            let decision = try await workflows.engineDecision(org, project, "workflow.run.fire")
            (written, _) = try await gateway.updateWorkflow(
                system,
                action: "workflow.run.fire",
                decision: decision,
                target: AccessTarget(project: project),
                detail: ["workflow": name, "firings": String(records.count)]
            ) { workflow, _ -> (changes: [FileChange], result: Bool) in
                // Compare-and-swap: fire only if the schedule still stands where this round read it.
                guard var now = try await gateway.workflowRecord(WorkflowState.self, statePath, in: workflow)?.0, now.enabled,
                    (now.scheduled[index] ?? lastMillis) == lastMillis
                else { return ([], false) }
                now.scheduled[index] = latestMillis
                var changes: [FileChange] = [.write(path: statePath, content: Workflow.encode(now))]
                for r in records { changes.append(.write(path: Workflow.workflowRun(project, name, r.id), content: Workflow.encode(r))) }
                return (changes, true)
            }
        } catch {
            workflows.logger.error(
                "a workflow's firing could not be recorded",
                metadata: ["workflow": "\(project)/\(name)", "error": "\(error)"]
            )
            return
        }
        guard written else { return }
        if skipWhy != nil {
            round.skipped += records
            return
        }
        if overlap == .cancel { for a in running { a.cancelled.store(true, ordering: .relaxed) } }
        var previous = overlap == .skip ? [] : running
        for r in records {
            let active = workflows.register(org, project, name, r.id)
            let waitFor = previous
            let workflows = self.workflows
            Task {
                for p in waitFor { await p.wait() }
                _ = await workflows.execute(org, r, active: active)
            }
            // Several firings of one round (catch-up `all`) run one after another.
            previous = [active]
            round.fired.append(r)
        }
    }

    /// At start-up: firings recorded but never started run now (once: the claim is a
    /// compare-and-swap); runs left `running` by a server that stopped are ended as failed,
    /// their engine runs ended by the engine's own recovery.
    public func recover() async {
        guard let organizations = try? await gateway.repository.storage.organizations() else { return }
        for org in organizations {
            guard let workflow = try? await gateway.workflowProject(org) else { continue }
            var after: String?
            repeat {
                guard let page = try? await workflow.glob("workflow-runs/**", at: "main", limit: 5000, after: after) else { break }
                for path in page.paths {
                    guard let (_, _, bytes) = try? await workflow.readBytes(path, at: "main"),
                        let r = try? JSONDecoder().decode(WorkflowRun.self, from: Data(bytes))
                    else { continue }
                    if r.status == .fired {
                        let active = workflows.register(org, r.project, r.workflow, r.id)
                        let workflows = self.workflows
                        Task { _ = await workflows.execute(org, r, active: active) }
                    } else if r.status == .running,
                        workflows.active.withLock({ $0[Workflows.key(org, r.project, r.workflow)]?[r.id] == nil })
                    {
                        // Ended now if its engine run is over; else looked at again each round
                        // (the engine's sweep may end it later, or another live server holds it).
                        if await isOver(org, r) { await endOrphan(org, r) } else { orphans.append((org, path)) }
                    }
                }
                after = page.next
            } while after != nil
        }
    }

    /// A run whose server stopped in the middle of it: ended as failed, saying so.
    func endOrphan(_ org: OrganizationRecord, _ run: WorkflowRun) async {
        var r = run
        r.status = .failed
        r.failure = "its server stopped during the run; its engine run ends by the engine's recovery policy"
        r.finished = Clock.rfc3339(Clock.nowMillis())
        await workflows.finish(org, r)
    }

    /// Every few minutes: runs in progress whose server died (on this machine or another, its
    /// engine run ended by the lease sweep) are ended. Only the in-progress index is read.
    public func recoverRunning() async {
        guard let organizations = try? await gateway.repository.storage.organizations() else { return }
        for org in organizations {
            guard let workflow = try? await gateway.workflowProject(org) else { continue }
            var after: String?
            repeat {
                guard let page = try? await workflow.glob("workflow-running/**", at: "main", limit: 5000, after: after) else { break }
                for path in page.paths {
                    let parts = path.dropFirst("workflow-running/".count).dropLast(".json".count).split(separator: "/").map(String.init)
                    guard parts.count == 3, workflows.active.withLock({ $0[Workflows.key(org, parts[0], parts[1])]?[parts[2]] == nil }),
                        let (r, _) = try? await gateway.workflowRecord(
                            WorkflowRun.self,
                            Workflow.workflowRun(parts[0], parts[1], parts[2]),
                            in: workflow
                        ),
                        r.status == .running, await isOver(org, r)
                    else { continue }
                    await endOrphan(org, r)
                }
                after = page.next
            } while after != nil
        }
    }

    /// The runs found running at start-up whose engine run was still live: ended once it is not.
    func recheckOrphans() async {
        guard !orphans.isEmpty else { return }
        var still: [(OrganizationRecord, String)] = []
        for (org, path) in orphans {
            guard let workflow = try? await gateway.workflowProject(org),
                let (r, _) = try? await gateway.workflowRecord(WorkflowRun.self, path, in: workflow), r.status == .running
            else { continue }
            if await isOver(org, r) { await endOrphan(org, r) } else { still.append((org, path)) }
        }
        orphans = still
    }

    /// Whether a run marked running has no live engine run behind it (none started, or its
    /// engine run ended: another server still holding it keeps it `running`).
    func isOver(_ org: OrganizationRecord, _ r: WorkflowRun) async -> Bool {
        guard let id = r.run else {
            // Claimed but no engine run yet: its server may be starting it right now. Past two
            // lease periods it has either started one or died.
            return (r.claimed ?? 0) + 2 * workflows.engine.leaseMillis < Clock.nowMillis()
        }
        guard let header = try? await gateway.agentRunHeader(org, project: r.project, id: id) else { return true }
        return header.status != .running
    }
}
