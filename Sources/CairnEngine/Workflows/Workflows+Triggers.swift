import CairnCore
import CairnGovernance
@_spi(StoreWrites) import CairnStore
import Foundation
import Synchronization

extension Workflows {
    /// One enabled workflow as the triggers see it.
    struct Enabled: Sendable {
        let definition: WorkflowDefinition
        let blob: String
        let state: WorkflowState
    }

    /// The enabled workflows of a project among `states` (the scheduler's, read incrementally),
    /// with definitions from the project's `main`, parsed once per content (cached by blob id).
    func enabled(_ org: OrganizationRecord, project: String, states given: [WorkflowState]) async throws -> [Enabled] {
        let states = given.filter(\.enabled)
        guard !states.isEmpty else { return [] }
        let handle = try await gateway.repository.project(project, organization: org.id)
        let head = try await handle.resolve("main").commit.hex
        let key = "\(org.id)/\(project)"
        // The definitions known at the head last looked at stay valid for the new head unless
        // a commit since changed a file under `.cairn/workflows/` (one tree diff, not a read of
        // every definition).
        let known = try await definitionsAt(handle, key: key, head: head)
        var definitions = known.definitions
        var staged: StagedCommit?
        var out: [Enabled] = []
        for state in states {
            if let (definition, blob) = definitions[state.workflow] {
                out.append(Enabled(definition: definition, blob: blob, state: state))
                continue
            }
            let path = WorkflowDefinition.path(state.workflow)
            if staged == nil { staged = try await handle.stage(at: head) }
            guard let staged, let blob = try await staged.blob(path) else { continue }
            var parsed = self.definitions.withLock { $0[blob.hex] }
            if parsed == nil, let bytes = try await staged.read(path) {
                parsed = try? WorkflowDefinition.parse(bytes, path: path)
                if let parsed {
                    self.definitions.withLock {
                        if $0.count > 50_000 { $0.removeAll() }
                        $0[blob.hex] = parsed
                    }
                }
            }
            guard let parsed else { continue }
            definitions[state.workflow] = (parsed, blob.hex)
            out.append(Enabled(definition: parsed, blob: blob.hex, state: state))
        }
        let added = definitions.count != known.definitions.count
        byProject.withLock { $0[key] = (head, definitions, known.version + (added ? 1 : 0)) }
        return out
    }

    /// The project's cached definitions, brought to `head`: a commit since that changed a file
    /// under `.cairn/workflows/` drops that workflow's entry (and moves the version).
    func definitionsAt(
        _ handle: Project,
        key: String,
        head: String
    ) async throws -> (
        definitions: [String: (WorkflowDefinition, String)], version: Int
    ) {
        guard let cached = byProject.withLock({ $0[key] }) else { return ([:], 1) }
        if cached.head == head { return (cached.definitions, cached.version) }
        let diff = try await handle.diff(from: cached.head, to: head, json: false, limit: 10_000)
        guard diff.next == nil else {
            byProject.withLock { $0[key] = nil }
            return ([:], cached.version + 1)
        }
        var kept = cached.definitions
        var changed = false
        for file in diff.files where file.path.hasPrefix(WorkflowDefinition.root) {
            if let name = WorkflowDefinition.name(of: file.path) {
                kept[name] = nil
                changed = true
            }
        }
        let version = cached.version + (changed ? 1 : 0)
        byProject.withLock { $0[key] = (head, kept, version) }
        return (kept, version)
    }

    /// A number that changes whenever the project's workflow definitions do.
    func definitionsVersion(_ org: OrganizationRecord, project: String) async throws -> Int {
        let handle = try await gateway.repository.project(project, organization: org.id)
        let head = try await handle.resolve("main").commit.hex
        return try await definitionsAt(handle, key: "\(org.id)/\(project)", head: head).version
    }

    /// Every definition of the project (parsed once per content), as of its head: read again
    /// only when a commit since changed a file under `.cairn/workflows/`.
    func allDefinitions(_ org: OrganizationRecord, project: String) async throws -> [String: (WorkflowDefinition, String)] {
        let handle = try await gateway.repository.project(project, organization: org.id)
        let head = try await handle.resolve("main").commit.hex
        let key = "\(org.id)/\(project)"
        if let cached = everyDefinition.withLock({ $0[key] }) {
            if cached.head == head { return cached.definitions }
            let diff = try await handle.diff(from: cached.head, to: head, json: false, limit: 10_000)
            if diff.next == nil && !diff.files.contains(where: { $0.path.hasPrefix(WorkflowDefinition.root) }) {
                everyDefinition.withLock { $0[key] = (head, cached.definitions) }
                return cached.definitions
            }
        }
        var out: [String: (WorkflowDefinition, String)] = [:]
        let staged = try await handle.stage(at: head)
        var after: String?
        repeat {
            let page = try await handle.glob(WorkflowDefinition.root + "*.json", at: head, limit: 5000, after: after)
            for path in page.paths {
                guard let name = WorkflowDefinition.name(of: path), let blob = try await staged.blob(path) else { continue }
                if let known = definitions.withLock({ $0[blob.hex] }) {
                    out[name] = (known, blob.hex)
                    continue
                }
                guard let bytes = try await staged.read(path), let parsed = try? WorkflowDefinition.parse(bytes, path: path) else {
                    continue
                }
                definitions.withLock { $0[blob.hex] = parsed }
                out[name] = (parsed, blob.hex)
            }
            after = page.next
        } while after != nil
        everyDefinition.withLock { $0[key] = (head, out) }
        return out
    }

    /// The enabled workflows of a project whose definition `matching` selects: only their
    /// states are read (an event a few workflows wait on costs those few, not every workflow).
    func enabled(_ org: OrganizationRecord, project: String, matching: (WorkflowDefinition) -> Bool) async throws -> [Enabled] {
        let candidates = try await allDefinitions(org, project: project).filter { matching($0.value.0) }
        guard !candidates.isEmpty else { return [] }
        let workflow = try await gateway.workflowProject(org)
        var out: [Enabled] = []
        for (name, (definition, blob)) in candidates.sorted(by: { $0.key < $1.key }) {
            guard
                let (state, _) = try await gateway.workflowRecord(WorkflowState.self, Workflow.workflowState(project, name), in: workflow),
                state.enabled
            else { continue }
            out.append(Enabled(definition: definition, blob: blob, state: state))
        }
        return out
    }

    /// A fired run's record, not yet written.
    func firing(
        _ e: Enabled,
        project: String,
        trigger: WorkflowRun.Trigger,
        depth: Int,
        skip: String? = nil
    ) -> WorkflowRun {
        var r = WorkflowRun(
            id: Gateway.runID(),
            project: project,
            workflow: e.definition.name,
            trigger: trigger,
            depth: depth,
            inputs: (try? Self.resolveInputs([:], e.definition)) ?? [:],
            status: .fired,
            definition: e.blob,
            steps: [],
            created: Clock.rfc3339(Clock.nowMillis())
        )
        if let skip {
            r.status = .skipped
            r.failure = "skipped: \(skip)"
            r.finished = r.created
        } else if depth > WorkflowDefinition.maxChainDepth {
            r.status = .skipped
            r.failure =
                "skipped: a chain of workflows firing each other reached the depth limit (\(WorkflowDefinition.maxChainDepth)); "
                + "look for workflows that trigger one another"
            r.finished = r.created
        }
        return r
    }

    /// Records runs as fired (with `extra` changes, in one commit), then starts those not skipped.
    @discardableResult
    func fire(
        _ org: OrganizationRecord,
        project: String,
        _ records: [WorkflowRun],
        extra: [FileChange] = [],
        action: String
    ) async
        -> [WorkflowRun]
    {
        guard !records.isEmpty || !extra.isEmpty else { return [] }
        do {
            let decision = try await engineDecision(org, project, action)
            _ = try await gateway.updateWorkflow(
                system(org, "workflow firings"),
                action: action,
                decision: decision,
                target: AccessTarget(project: project),
                detail: ["runs": records.map { "\($0.workflow)/\($0.id)" }.joined(separator: ",")]
            ) { _, _ in
                (records.map { .write(path: Workflow.workflowRun(project, $0.workflow, $0.id), content: Workflow.encode($0)) } + extra, ())
            }
        } catch {
            logger.error("workflow firings could not be recorded", metadata: ["project": "\(project)", "error": "\(error)"])
            return []
        }
        for r in records where r.status == .fired {
            let active = register(org, project, r.workflow, r.id)
            Task { _ = await self.execute(org, r, active: active) }
        }
        return records
    }

    // MARK: Completion

    /// A run's end, recorded with what it fires: the merge it made (for the depth of chains its
    /// commits start) and the runs of workflows waiting on its completion, all in one commit, so
    /// a completion fires its dependents exactly once.
    func finish(_ org: OrganizationRecord, _ record: WorkflowRun) async {
        var extra: [FileChange] = [
            .write(path: Workflow.workflowRun(record.project, record.workflow, record.id), content: Workflow.encode(record))
        ]
        // Out of the in-progress index (if it got there: a run refused before its claim did not).
        let running = Workflow.workflowRunning(record.project, record.workflow, record.id)
        if let workflow = try? await gateway.workflowProject(org), (try? await workflow.readBytes(running, at: "main")) != nil {
            extra.append(.delete(running))
        }
        if let merge = record.mergeCommit {
            let entry = WorkflowMerge(workflow: record.workflow, run: record.id, depth: record.depth ?? 0)
            extra.append(.write(path: Workflow.workflowMerge(record.project, merge), content: Workflow.encode(entry)))
        }
        var dependents: [WorkflowRun] = []
        let outcome: WorkflowDefinition.RunOutcome? =
            switch record.status {
            case .succeeded: .succeeded
            case .failed, .cancelled: .failed
            default: nil
            }
        if let outcome {
            do {
                let upstream = record.workflow
                let waiting = try await enabled(org, project: record.project) { d in
                    d.triggers.contains { if case .completion(let w, _) = $0 { w == upstream } else { false } }
                }
                for e in waiting {
                    for trigger in e.definition.triggers {
                        guard case .completion(let upstream, let outcomes) = trigger, upstream == record.workflow,
                            outcomes.contains(outcome)
                        else { continue }
                        var t = WorkflowRun.Trigger(kind: "workflow")
                        t.run = record.id
                        t.outcome = outcome.rawValue
                        dependents.append(
                            firing(
                                e,
                                project: record.project,
                                trigger: t,
                                depth: (record.depth ?? 0) + 1,
                                skip: e.state.paused ? "paused" : nil
                            )
                        )
                    }
                }
            } catch {
                logger.warning(
                    "workflows waiting on a completion could not be read",
                    metadata: ["run": "\(record.id)", "error": "\(error)"]
                )
            }
        }
        await fire(org, project: record.project, dependents, extra: extra, action: "workflow.run.finish")
    }

    // MARK: Merge requests

    /// A merge-request event this server announced: the enabled workflows of its project whose
    /// target it is and that wait on that event fire.
    public func mergeRequestEvent(_ org: OrganizationRecord, project: String, target: String, number: Int, event: String) async {
        guard let kind = WorkflowDefinition.MergeRequestEvent(rawValue: event) else { return }
        let waiting = try? await enabled(org, project: project) { d in
            d.triggers.contains { if case .mergeRequest(let events) = $0 { events.contains(kind) } else { false } }
        }
        guard let list = waiting else { return }
        var records: [WorkflowRun] = []
        for e in list where e.definition.target == target {
            for trigger in e.definition.triggers {
                guard case .mergeRequest(let events) = trigger, events.contains(kind) else { continue }
                var t = WorkflowRun.Trigger(kind: "mergeRequest")
                t.mergeRequest = number
                t.event = event
                records.append(firing(e, project: project, trigger: t, depth: 0, skip: e.state.paused ? "paused" : nil))
            }
        }
        await fire(org, project: project, records, action: "workflow.run.fire")
    }

    /// A commit on a branch: each open merge request whose source it is has been `updated`,
    /// for the workflows of the project that wait on that (looked up only when one does).
    func sourceUpdated(_ org: OrganizationRecord, project: String, branch: String, at time: String) async {
        guard let all = try? await allDefinitions(org, project: project),
            all.values.contains(where: { d in
                d.0.triggers.contains { if case .mergeRequest(let events) = $0 { events.contains(.updated) } else { false } }
            })
        else { return }
        var cursor: String?
        repeat {
            guard
                let page = try? await gateway.review.mergeRequests(
                    system(org, "merge requests updated by a commit on \(branch)"),
                    project: project,
                    state: .open,
                    limit: 500,
                    cursor: cursor
                )
            else { return }
            // Only requests opened before the commit (a commit made before the request is what it proposes).
            let when = Clock.parseRFC3339(time) ?? .max
            for view in page.mergeRequests
            where view.request.source == branch && (Clock.parseRFC3339(view.request.created) ?? .min) < when {
                await mergeRequestEvent(org, project: project, target: view.request.target, number: view.request.number, event: "updated")
            }
            cursor = page.next
        } while cursor != nil
    }

    /// The organization with this id, from memory after its first look-up.
    func organization(_ id: Int64) async -> OrganizationRecord? {
        if let known = organizations.withLock({ $0[id] }) { return known }
        guard let found = try? await gateway.repository.storage.organization(id: id) else { return nil }
        organizations.withLock { $0[id] = found }
        return found
    }

    /// Follows this server's own announcements until cancelled: merge-request events fire
    /// workflows; commits wake the scheduler for its path watches.
    public func follow(_ feed: ChangeFeed, onCommit: @escaping @Sendable () async -> Void) async {
        for await (orgID, event) in feed.observeLocal() {
            if Task.isCancelled { return }
            if event.commit != nil && !event.branch.isEmpty {
                await onCommit()
                if event.mergeRequest == nil, event.action != "branch.create", let org = await organization(orgID) {
                    await sourceUpdated(org, project: event.project, branch: event.branch, at: event.time)
                }
            }
            guard let number = event.mergeRequest else { continue }
            let kind: String? =
                switch event.action {
                case "merge_request.opened": "opened"
                case "merge_request.approve": "approved"
                default: nil
                }
            guard let kind, let org = await organization(orgID) else {
                continue
            }
            await mergeRequestEvent(org, project: event.project, target: event.branch, number: number, event: kind)
        }
    }
}
