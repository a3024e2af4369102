import CairnCore
import CairnGovernance
@_spi(StoreWrites) import CairnStore
import Foundation

/// Path watches. Each watch has a watermark, the last commit of its branch it considered,
/// moved only by a firing, in the firing's commit and by compare-and-swap, so a commit fires a
/// watch once however many servers look. A round walks a branch's new commits once for all its
/// watches and finds candidates by their globs' literal prefixes (an index, not a scan of every
/// watch); commits the workflow itself made (its runs' merges) never fire it.
extension WorkflowScheduler {
    struct Watch {
        let enabled: Workflows.Enabled
        let index: Int
        let trigger: WorkflowDefinition.PathTrigger
        let glob: Glob
        let prefix: String
        /// The watermark stored, and the one in effect (later, when this server already looked).
        let stored: String?
        let from: String
        var key: String
    }

    /// How many commits one round looks back at most; a watermark older than that is moved to
    /// the head without firing (said in the log).
    static let walkLimit = 10_000

    func watch(_ org: OrganizationRecord, project name: String, _ list: [Workflows.Enabled], now: Date, into round: inout Round) async {
        guard !list.isEmpty else { return }
        let project: Project
        do {
            project = try await gateway.repository.project(name, organization: org.id)
        } catch {
            return
        }
        var byBranch: [String: [(Workflows.Enabled, Int, WorkflowDefinition.PathTrigger)]] = [:]
        for e in list {
            for (index, trigger) in e.definition.watches { byBranch[trigger.branch, default: []].append((e, index, trigger)) }
        }
        for (branch, entries) in byBranch.sorted(by: { $0.key < $1.key }) {
            guard let head = try? await project.resolve(branch).commit.hex else { continue }
            var watches: [Watch] = []
            for (e, index, trigger) in entries {
                let key = "\(org.id)/\(name)/\(e.definition.name)/\(index)"
                let stored = e.state.watermarks?[String(index)]
                var from = stored ?? head
                if let a = advanced[key], a.from == stored { from = a.to }
                if stored == nil { advanced[key] = (nil, head) }
                guard from != head, let glob = compiled(trigger.glob) else { continue }
                watches.append(
                    Watch(
                        enabled: e,
                        index: index,
                        trigger: trigger,
                        glob: glob,
                        prefix: String(decoding: glob.literalPrefix, as: UTF8.self),
                        stored: stored,
                        from: from,
                        key: key
                    )
                )
            }
            guard !watches.isEmpty else { continue }
            await match(org, project, name, branch: branch, head: head, watches, now: now, into: &round)
        }
    }

    func match(
        _ org: OrganizationRecord,
        _ project: Project,
        _ projectName: String,
        branch: String,
        head: String,
        _ watches: [Watch],
        now: Date,
        into round: inout Round
    ) async {
        // The branch's new commits, newest first, walked once for every watch.
        let wanted = Set(watches.map(\.from))
        var commits: [(id: String, author: String, paths: [String])] = []
        var position: [String: Int] = [:]
        var next = ObjectID(hex: head)
        while let id = next, commits.count < Self.walkLimit, position.count < wanted.count {
            if wanted.contains(id.hex) {
                position[id.hex] = commits.count
                if position.count == wanted.count { break }
            }
            do {
                let facts: (author: String, paths: [String])
                if let known = commitFacts[id.hex] {
                    facts = known
                } else {
                    let info = try await project.commitInfo(id)
                    facts = (info.author, try await project.changedPaths(id))
                    if commitFacts.count > 20_000 { commitFacts.removeAll() }
                    commitFacts[id.hex] = facts
                }
                commits.append((id.hex, facts.author, facts.paths))
                next = try await project.firstParent(id)
            } catch {
                workflows.logger.warning("a watched branch could not be read", metadata: ["branch": "\(branch)", "error": "\(error)"])
                return
            }
        }
        // The index: watches by their glob's literal prefix; a path looks up each of its prefixes
        // of a length some watch has.
        var byPrefix: [String: [Int]] = [:]
        for (i, w) in watches.enumerated() { byPrefix[w.prefix, default: []].append(i) }
        let lengths = Set(watches.map { $0.prefix.utf8.count }).sorted()
        var found: [Int: (paths: Set<String>, commits: Set<String>)] = [:]
        for (ci, c) in commits.enumerated() {
            for path in c.paths {
                let bytes = Array(path.utf8)
                for length in lengths where length <= bytes.count {
                    guard let candidates = byPrefix[String(decoding: bytes[0..<length], as: UTF8.self)] else { continue }
                    for wi in candidates {
                        let w = watches[wi]
                        guard let stop = position[w.from], ci < stop, c.author != "workflow:\(w.enabled.definition.name)",
                            w.glob.matches(path)
                        else { continue }
                        found[wi, default: ([], [])].paths.insert(path)
                        found[wi, default: ([], [])].commits.insert(c.id)
                    }
                }
            }
        }
        for (wi, w) in watches.enumerated() {
            guard position[w.from] != nil else {
                workflows.logger.warning(
                    "a path watch's last commit is not among its branch's last \(Self.walkLimit) commits; it continues from the head",
                    metadata: ["workflow": "\(w.enabled.definition.name)"]
                )
                advanced[w.key] = (w.stored, head)
                continue
            }
            guard let hit = found[wi] else {
                advanced[w.key] = (w.stored, head)
                pending[w.key] = nil
                continue
            }
            let first = pending[w.key] ?? now
            pending[w.key] = first
            let due = first.addingTimeInterval(Double(w.trigger.debounceSeconds))
            if now < due {
                round.next = min(round.next ?? due, due)
                continue
            }
            let ordered = commits.filter { hit.commits.contains($0.id) }.map(\.id).reversed()
            var trigger = WorkflowRun.Trigger(kind: "path")
            trigger.paths = hit.paths.sorted()
            trigger.commits = Array(ordered)
            let depth = await chainDepth(org, projectName, commits.filter { hit.commits.contains($0.id) })
            let record = workflows.firing(w.enabled, project: projectName, trigger: trigger, depth: depth)
            if await recordWatchFiring(org, w, record, head: head) {
                pending[w.key] = nil
                advanced[w.key] = nil
                if record.status == .fired {
                    let active = workflows.register(org, record.project, record.workflow, record.id)
                    let workflows = self.workflows
                    Task { _ = await workflows.execute(org, record, active: active) }
                    round.fired.append(record)
                } else {
                    round.skipped.append(record)
                }
            }
        }
    }

    /// A watch's glob, compiled once.
    func compiled(_ pattern: String) -> Glob? {
        if let known = globs[pattern] { return known }
        guard let glob = try? Glob(pattern) else { return nil }
        if globs.count > 100_000 { globs.removeAll() }
        globs[pattern] = glob
        return glob
    }

    /// One deeper than the deepest workflow run whose merge is among the commits.
    func chainDepth(_ org: OrganizationRecord, _ project: String, _ commits: [(id: String, author: String, paths: [String])]) async -> Int {
        var depth = 0
        guard let workflow = try? await gateway.workflowProject(org) else { return 0 }
        for c in commits where c.author.hasPrefix("workflow:") {
            if let (merge, _) = try? await gateway.workflowRecord(WorkflowMerge.self, Workflow.workflowMerge(project, c.id), in: workflow) {
                depth = max(depth, merge.depth + 1)
            }
        }
        return depth
    }

    /// The firing and the moved watermark in one commit, if the watermark still stands where
    /// this round read it.
    func recordWatchFiring(_ org: OrganizationRecord, _ w: Watch, _ record: WorkflowRun, head: String) async -> Bool {
        let project = record.project
        let statePath = Workflow.workflowState(project, record.workflow)
        let index = String(w.index)
        let stored = w.stored
        let gateway = self.gateway
        do {
            let decision = try await workflows.engineDecision(org, project, "workflow.run.fire")
            return try await gateway.updateWorkflow(
                workflows.system(org, "path watch of workflow \(record.workflow)"),
                action: "workflow.run.fire",
                decision: decision,
                target: AccessTarget(project: project),
                detail: ["workflow": record.workflow, "run": record.id]
            ) { workflow, _ -> (changes: [FileChange], result: Bool) in
                guard var now = try await gateway.workflowRecord(WorkflowState.self, statePath, in: workflow)?.0, now.enabled,
                    now.watermarks?[index] == stored
                else { return ([], false) }
                var marks = now.watermarks ?? [:]
                marks[index] = head
                now.watermarks = marks
                return (
                    [
                        .write(path: statePath, content: Workflow.encode(now)),
                        .write(path: Workflow.workflowRun(project, record.workflow, record.id), content: Workflow.encode(record)),
                    ], true
                )
            }.0
        } catch {
            workflows.logger.error(
                "a path watch's firing could not be recorded",
                metadata: ["workflow": "\(record.workflow)", "error": "\(error)"]
            )
            return false
        }
    }
}

/// Paused runs: continued once their approval is given, ended when it is refused or lapses.
extension WorkflowScheduler {
    func resumePaused(_ org: OrganizationRecord, now: Date, into round: inout Round) async {
        guard let workflow = try? await gateway.workflowProject(org) else { return }
        var after: String?
        repeat {
            guard let page = try? await workflow.glob("workflow-paused/**", at: "main", limit: 1000, after: after) else { return }
            for path in page.paths {
                let parts = path.dropFirst("workflow-paused/".count).dropLast(".json".count).split(separator: "/").map(String.init)
                guard parts.count == 3, let (_, _, bytes) = try? await workflow.readBytes(path, at: "main"),
                    let paused = try? JSONDecoder().decode(PausedRun.self, from: Data(bytes)),
                    let approval = try? await gateway.review.pendingApproval(org, id: paused.approval)
                else { continue }
                let (project, name, id) = (parts[0], parts[1], parts[2])
                let expired = Int64(now.timeIntervalSince1970 * 1000) >= paused.expires
                switch approval.state {
                case .applied:
                    await proceed(org, project, name, id, resume: true, why: nil, into: &round)
                case .rejected, .failed:
                    let decision =
                        approval.decisions.last.map { "rejected by \($0.approver): \($0.rationale)" } ?? (approval.error ?? "refused")
                    await proceed(org, project, name, id, resume: false, why: "approval \(approval.id) \(decision)", into: &round)
                case .pending where expired:
                    _ = try? await gateway.review.expireApproval(workflows.system(org, "approval step expired"), id: approval.id)
                    await proceed(
                        org,
                        project,
                        name,
                        id,
                        resume: false,
                        why: "approval \(approval.id) expired: nobody decided it in time",
                        into: &round
                    )
                case .pending:
                    let at = Date(timeIntervalSince1970: Double(paused.expires) / 1000)
                    round.next = min(round.next ?? at, at)
                }
            }
            after = page.next
        } while after != nil
    }

    /// Takes a paused run out of the paused index (compare-and-swap: one server does), then
    /// continues it or ends it.
    /// Continues (or ends) the run waiting on a decided request, here and now, and returns
    /// how it ended: for the command line, which has no scheduler running.
    public func settle(_ org: OrganizationRecord, approval: PendingApproval) async -> WorkflowRun? {
        guard approval.operation == .workflowStep, let project = approval.project, let name = approval.detail?["workflow"],
            let id = approval.detail?["run"]
        else { return nil }
        var round = Round()
        switch approval.state {
        case .applied:
            return await proceed(org, project, name, id, resume: true, why: nil, into: &round, wait: true)
        case .rejected, .failed:
            let decision = approval.decisions.last.map { "rejected by \($0.approver): \($0.rationale)" } ?? (approval.error ?? "refused")
            return await proceed(
                org,
                project,
                name,
                id,
                resume: false,
                why: "approval \(approval.id) \(decision)",
                into: &round,
                wait: true
            )
        case .pending:
            return nil
        }
    }

    @discardableResult
    func proceed(
        _ org: OrganizationRecord,
        _ project: String,
        _ name: String,
        _ id: String,
        resume: Bool,
        why: String?,
        into round: inout Round,
        wait: Bool = false
    ) async -> WorkflowRun? {
        let runPath = Workflow.workflowRun(project, name, id)
        let pausedPath = Workflow.workflowPaused(project, name, id)
        let gateway = self.gateway
        let taken: WorkflowRun?
        do {
            let decision = try await workflows.engineDecision(org, project, "workflow.run.resume")
            taken = try await gateway.updateWorkflow(
                workflows.system(org, "workflow \(name) run \(id) after its approval"),
                action: resume ? "workflow.run.resume" : "workflow.run.refused",
                decision: decision,
                target: AccessTarget(project: project),
                detail: ["workflow": name, "run": id]
            ) { workflow, _ -> (changes: [FileChange], result: WorkflowRun?) in
                guard var r = try await gateway.workflowRecord(WorkflowRun.self, runPath, in: workflow)?.0, r.status == .paused else {
                    return ([], nil)
                }
                r.status = .running
                r.claimed = Clock.nowMillis()
                return ([.write(path: runPath, content: Workflow.encode(r)), .delete(pausedPath)], r)
            }.0
        } catch {
            workflows.logger.error("a paused workflow run could not be taken up", metadata: ["run": "\(id)", "error": "\(error)"])
            return nil
        }
        guard let taken else { return nil }
        let active = workflows.register(org, project, name, id)
        let workflows = self.workflows
        if resume { round.fired.append(taken) }
        let task = Task {
            if resume { return await workflows.execute(org, taken, active: active, claimed: true) }
            defer { workflows.unregister(org, project, name, id) }
            return await workflows.conclude(org, taken, why: why ?? "refused")
        }
        return wait ? await task.value : taken
    }
}
