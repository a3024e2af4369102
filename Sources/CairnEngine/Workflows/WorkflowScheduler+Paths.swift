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
        /// The watermark stored (what a firing's compare-and-swap expects).
        let stored: String?
        let key: String
    }

    /// One watched branch's watches, indexed by their globs' literal prefixes, and the commit
    /// every one of them has been looked at up to: a new commit costs a walk of the new commits
    /// and a look-up per changed path, not a visit of every watch. Rebuilt when a workflow's
    /// state or definition changes (a firing moves a watermark).
    struct WatchGroup {
        let signature: String
        var examined: String
        let watches: [Watch]
        let byPrefix: [String: [Int]]
        let lengths: [Int]
        /// Matches waiting for their debounce window (by watch), oldest commit first.
        var hits: [Int: (paths: Set<String>, commits: [String])] = [:]
    }

    /// How many commits one round looks back at most; a watermark older than that is moved to
    /// the head without firing (said in the log).
    static let walkLimit = 10_000

    func watch(_ org: OrganizationRecord, project name: String, _ found: ProjectWorkflows, now: Date, into round: inout Round) async {
        guard !found.watches.isEmpty else { return }
        let signature = found.signature
        let project: Project
        do {
            project = try await gateway.repository.project(name, organization: org.id)
        } catch {
            return
        }
        for (branch, entries) in found.watches {
            guard let head = try? await project.resolve(branch).commit.hex else { continue }
            let key = "\(org.id)/\(name)/\(branch)"
            if var group = groups[key], group.signature == signature {
                if group.examined != head {
                    guard let walked = await walk(project, from: head, back: [group.examined]), let stop = walked.positions[group.examined]
                    else {
                        // The examined commit is not on the branch any more (or too far back): rebuild.
                        groups[key] = nil
                        continue
                    }
                    add(Array(walked.commits.prefix(stop)), stops: nil, to: &group)
                    group.examined = head
                }
                await fireDue(org, name, &group, now: now, into: &round)
                groups[key] = group
                continue
            }
            // (Re)build: each watch goes on from where this server last looked (the group's
            // examined commit, if it had no match waiting and its stored watermark is the same),
            // else from its stored watermark.
            let previous = groups[key]
            var previousIndex: [String: Int] = [:]
            for (i, w) in (previous?.watches ?? []).enumerated() { previousIndex[w.key] = i }
            var watches: [Watch] = []
            var froms: [String] = []
            for (e, index, trigger) in entries {
                guard let glob = compiled(trigger.glob) else { continue }
                let stored = e.state.watermarks?[String(index)]
                let wkey = "\(org.id)/\(name)/\(e.definition.name)/\(index)"
                var from = stored ?? head
                if let previous, let old = previousIndex[wkey], previous.watches[old].stored == stored, previous.hits[old] == nil {
                    from = previous.examined
                }
                watches.append(
                    Watch(
                        enabled: e,
                        index: index,
                        trigger: trigger,
                        glob: glob,
                        prefix: String(decoding: glob.literalPrefix, as: UTF8.self),
                        stored: stored,
                        key: wkey
                    )
                )
                froms.append(from)
            }
            var byPrefix: [String: [Int]] = [:]
            for (i, w) in watches.enumerated() { byPrefix[w.prefix, default: []].append(i) }
            var group = WatchGroup(
                signature: signature,
                examined: head,
                watches: watches,
                byPrefix: byPrefix,
                lengths: Set(watches.map { $0.prefix.utf8.count }).sorted()
            )
            let wanted = Set(froms).subtracting([head])
            if !wanted.isEmpty, let walked = await walk(project, from: head, back: wanted) {
                // A watch whose watermark is not among the walked commits goes on from the head.
                let stops = froms.map { $0 == head ? 0 : walked.positions[$0] ?? 0 }
                for (i, from) in froms.enumerated() where from != head && walked.positions[from] == nil {
                    workflows.logger.warning(
                        "a path watch's last commit is not among its branch's last \(Self.walkLimit) commits; it continues from the head",
                        metadata: ["workflow": "\(watches[i].enabled.definition.name)"]
                    )
                }
                add(walked.commits, stops: stops, to: &group)
            }
            await fireDue(org, name, &group, now: now, into: &round)
            groups[key] = group
        }
    }

    /// The branch's commits from `head` back to the oldest of `back`, newest first, each with
    /// its author and changed paths, and where each commit of `back` stands in that list (the
    /// commits before it are the newer ones); nil if the branch cannot be read.
    func walk(
        _ project: Project,
        from head: String,
        back: Set<String>
    ) async -> (
        commits: [(id: String, author: String, paths: [String])], positions: [String: Int]
    )? {
        var commits: [(id: String, author: String, paths: [String])] = []
        var positions: [String: Int] = [:]
        var next = ObjectID(hex: head)
        while let id = next, commits.count < Self.walkLimit {
            if back.contains(id.hex) {
                positions[id.hex] = commits.count
                if positions.count == back.count { break }
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
                workflows.logger.warning("a watched branch could not be read", metadata: ["error": "\(error)"])
                return nil
            }
        }
        return (commits, positions)
    }

    /// Adds the commits' matching paths to the watches' waiting matches (`stops[i]`: how many
    /// of the newest commits watch i had not looked at yet; nil: all of them).
    func add(_ commits: [(id: String, author: String, paths: [String])], stops: [Int]?, to group: inout WatchGroup) {
        for (ci, c) in commits.enumerated().reversed() {
            for path in c.paths {
                let bytes = Array(path.utf8)
                for length in group.lengths where length <= bytes.count {
                    guard let candidates = group.byPrefix[String(decoding: bytes[0..<length], as: UTF8.self)] else { continue }
                    for wi in candidates {
                        let w = group.watches[wi]
                        if let stops, ci >= stops[wi] { continue }
                        guard c.author != "workflow:\(w.enabled.definition.name)", w.glob.matches(path) else { continue }
                        var hit = group.hits[wi] ?? ([], [])
                        hit.paths.insert(path)
                        if hit.commits.last != c.id { hit.commits.append(c.id) }
                        group.hits[wi] = hit
                    }
                }
            }
        }
    }

    /// Fires the watches whose debounce window has closed; the others say when theirs will.
    func fireDue(
        _ org: OrganizationRecord,
        _ projectName: String,
        _ group: inout WatchGroup,
        now: Date,
        into round: inout Round
    ) async {
        for (wi, hit) in group.hits.sorted(by: { $0.key < $1.key }) {
            let w = group.watches[wi]
            let first = pending[w.key] ?? now
            pending[w.key] = first
            let due = first.addingTimeInterval(Double(w.trigger.debounceSeconds))
            if now < due {
                round.next = min(round.next ?? due, due)
                continue
            }
            var trigger = WorkflowRun.Trigger(kind: "path")
            trigger.paths = hit.paths.sorted()
            trigger.commits = hit.commits
            let depth = await chainDepth(org, projectName, hit.commits.map { (id: $0, author: commitFacts[$0]?.author ?? "", paths: []) })
            let record = workflows.firing(w.enabled, project: projectName, trigger: trigger, depth: depth)
            if await recordWatchFiring(org, w, record, head: group.examined) {
                pending[w.key] = nil
                group.hits[wi] = nil
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
        let taken: WorkflowRun?
        do {
            taken = try await workflows.takePaused(org, project, name, id, action: resume ? "workflow.run.resume" : "workflow.run.refused")
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
