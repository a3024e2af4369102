import CairnCore
import CairnGovernance
@_spi(StoreWrites) import CairnStore
import Foundation
import Metrics

extension Workflows {
    // MARK: Firing

    /// Starts a run by hand (needs `run` on the project): the inputs are checked against the
    /// definition's (every problem listed), the firing is recorded, and the run proceeds in the
    /// background; the answer is the recorded firing. `wait` awaits the run's end instead.
    public func start(
        _ caller: Caller,
        project: String,
        name: String,
        inputs: [String: JSONValue],
        wait: Bool = false
    ) async throws -> WorkflowRun {
        let (definition, blob, decision) = try await authorized(caller, project: project, name: name, .run, action: "workflow.run.start")
        guard definition.isManual else {
            throw CairnError(.conflict, "workflow \(name) has no manual trigger: add {\"kind\": \"manual\"} to start it by hand")
        }
        let state = try await state(caller.organization, project, name)
        guard state.enabled else { throw CairnError(.conflict, "workflow \(name) is not enabled: `cairn workflow enable \(name)` first") }
        let resolved = try Self.resolveInputs(inputs, definition)
        let trigger = WorkflowRun.Trigger(kind: "manual", by: caller.principal.subject)
        let id = Gateway.runID()
        let record = WorkflowRun(
            id: id,
            project: project,
            workflow: name,
            trigger: trigger,
            depth: 0,
            inputs: resolved,
            status: .fired,
            definition: blob,
            steps: [],
            created: Clock.rfc3339(Clock.nowMillis())
        )
        try await saveRecords(caller, project: project, name: name, [record], decision: decision, action: "workflow.run.fire")
        let org = caller.organization
        let active = register(org, project, name, id)
        let task = Task { await self.execute(org, record, active: active) }
        return wait ? await task.value : record
    }

    /// Inputs checked against the declared ones: unknown names, missing required inputs and
    /// wrong types are each named; defaults fill the rest.
    static func resolveInputs(_ given: [String: JSONValue], _ definition: WorkflowDefinition) throws -> [String: JSONValue] {
        var problems: [Violation] = []
        var out: [String: JSONValue] = [:]
        for key in given.keys.sorted() where definition.inputs[key] == nil {
            problems.append(
                Violation(
                    constraint: "unknown_input",
                    path: "",
                    pointer: "/inputs/\(JSONValue.escape(key))",
                    message: "no input '\(key)' is declared"
                )
            )
        }
        for (name, input) in definition.inputs.sorted(by: { $0.key < $1.key }) {
            if let v = given[name] {
                if input.accepts(v) {
                    out[name] = v
                } else {
                    problems.append(
                        Violation(
                            constraint: "type",
                            path: "",
                            pointer: "/inputs/\(JSONValue.escape(name))",
                            message: "'\(name)' must be a \(input.type.rawValue)"
                        )
                    )
                }
            } else if let d = input.defaultValue {
                out[name] = d
            } else if input.required {
                problems.append(
                    Violation(
                        constraint: "required",
                        path: "",
                        pointer: "/inputs/\(JSONValue.escape(name))",
                        message: "input '\(name)' is required"
                    )
                )
            }
        }
        guard problems.isEmpty else {
            throw CairnError(
                .invalidArgument,
                "the inputs do not fit workflow \(definition.name): " + problems.map(\.message).joined(separator: "; "),
                violations: problems
            )
        }
        return out
    }

    func register(_ org: OrganizationRecord, _ project: String, _ name: String, _ id: String) -> Active {
        let a = Active()
        active.withLock { $0[Self.key(org, project, name), default: [:]][id] = a }
        return a
    }

    func unregister(_ org: OrganizationRecord, _ project: String, _ name: String, _ id: String) {
        let a = active.withLock { $0[Self.key(org, project, name)]?.removeValue(forKey: id) }
        a?.finish()
    }

    /// Writes run records, one commit (with its audit record).
    func saveRecords(
        _ caller: Caller,
        project: String,
        name: String,
        _ records: [WorkflowRun],
        decision: Decision,
        action: String
    ) async throws {
        _ = try await gateway.updateWorkflow(
            caller,
            action: action,
            decision: decision,
            target: AccessTarget(project: project),
            detail: ["workflow": name, "runs": records.map(\.id).joined(separator: ",")]
        ) { _, _ in
            (records.map { .write(path: Workflow.workflowRun(project, name, $0.id), content: Workflow.encode($0)) }, ())
        }
    }

    func save(_ org: OrganizationRecord, _ record: WorkflowRun, action: String) async {
        let caller = system(org, "workflow \(record.workflow) run \(record.id)")
        do {
            let decision = try await engineDecision(org, record.project, action)
            try await saveRecords(caller, project: record.project, name: record.workflow, [record], decision: decision, action: action)
        } catch {
            logger.error("a workflow run's record could not be saved", metadata: ["run": "\(record.id)", "error": "\(error)"])
        }
    }

    /// The engine's own decision to write a workflow's records (it holds the deployment's authority).
    func engineDecision(_ org: OrganizationRecord, _ project: String, _ action: String) async throws -> Decision {
        try await gateway.authorize(system(org, action), .configure, AccessTarget(project: project), action: action)
    }

    // MARK: Running

    /// The workflow as the caller of its run's calls: its definition's scope as a key that is
    /// never stored, bounded at every call by the person who enabled it (as they stand then).
    func caller(_ org: OrganizationRecord, _ definition: WorkflowDefinition, _ project: String, _ state: WorkflowState) -> Caller {
        let subject = "workflow:\(definition.name)"
        let key = APIKeyRecord.workflowScope(
            subject: subject,
            role: definition.role,
            project: project,
            path: definition.path,
            enabledBy: state.enabledBy ?? Principal.workflowEngine.subject
        )
        let principal = Principal(
            subject: subject,
            kind: .service,
            credential: Principal.workflowCredentialPrefix + "\(project)/\(definition.name)",
            key: key,
            onBehalfOf: state.enabledLocally ? nil : state.enabledBy
        )
        return Caller(principal: principal, organization: org, reason: "workflow \(definition.name)")
    }

    /// Claims a fired run (fired → running, compare-and-swap in the store, so a firing runs
    /// once even when two servers see it), then runs it to its end.
    func execute(_ org: OrganizationRecord, _ fired: WorkflowRun, active: Active, claimed already: Bool = false) async -> WorkflowRun {
        defer { unregister(org, fired.project, fired.workflow, fired.id) }
        var record = fired
        if !already {
            do {
                guard let claimed = try await claim(org, fired) else { return fired }
                record = claimed
            } catch {
                logger.error("a workflow firing could not be claimed", metadata: ["run": "\(fired.id)", "error": "\(error)"])
                return fired
            }
        }
        let started = DispatchTime.now().uptimeNanoseconds
        record = await runSteps(org, record, active: active)
        if record.status == .paused { return record }
        record.finished = Clock.rfc3339(Clock.nowMillis())
        await finish(org, record)
        announce(org, record, action: "workflow.run.finish")
        Counter(label: "cairn_workflow_runs_total", dimensions: [("status", record.status.rawValue)]).increment()
        Timer(label: "cairn_workflow_run_seconds").recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
        await prune(org, record.project, record.workflow)
        return record
    }

    func claim(_ org: OrganizationRecord, _ fired: WorkflowRun) async throws -> WorkflowRun? {
        let path = Workflow.workflowRun(fired.project, fired.workflow, fired.id)
        let (claimed, _) = try await gateway.updateWorkflow(
            system(org, "workflow \(fired.workflow) run \(fired.id) starts"),
            action: "workflow.run.claim",
            decision: try await engineDecision(org, fired.project, "workflow.run.claim"),
            target: AccessTarget(project: fired.project),
            detail: ["workflow": fired.workflow, "run": fired.id]
        ) { workflow, _ -> (changes: [FileChange], result: WorkflowRun?) in
            guard var r = try await self.gateway.workflowRecord(WorkflowRun.self, path, in: workflow)?.0, r.status == .fired else {
                return ([], nil)
            }
            r.status = .running
            r.claimed = Clock.nowMillis()
            return (
                [
                    .write(path: path, content: Workflow.encode(r)),
                    .write(path: Workflow.workflowRunning(r.project, r.workflow, r.id), content: Array("{}".utf8)),
                ], r
            )
        }
        return claimed
    }

    func runSteps(_ org: OrganizationRecord, _ start: WorkflowRun, active: Active) async -> WorkflowRun {
        var record = start
        let definition: WorkflowDefinition
        let state: WorkflowState
        do {
            (definition, _) = try await self.definition(org, project: record.project, name: record.workflow)
            state = try await self.state(org, record.project, record.workflow)
        } catch {
            return failed(record, "the workflow could not be read: \(error)")
        }
        guard state.enabled else { return failed(record, "the workflow was disabled before the run started") }
        // Past an approval step, the run goes on from the branch its earlier engine run left.
        var continuing: (branch: String, base: String)?
        if record.resumeAt != nil, let earlier = record.earlier?.last {
            do {
                let paused = try await gateway.agentRunHeader(org, project: record.project, id: earlier)
                continuing = (paused.branch, paused.base)
            } catch {
                return failed(record, "the run paused for approval could not be found: \(Self.describe(error))")
            }
        }
        let session: RunSession
        do {
            session = try await engine.start(
                caller(org, definition, record.project, state),
                project: record.project,
                target: definition.target,
                onBehalfOf: state.enabledLocally ? nil : state.enabledBy,
                continuing: continuing,
                workflow: "\(record.workflow)/\(record.id)"
            )
        } catch {
            return failed(record, "the run could not start: \(Self.describe(error))")
        }
        record.run = session.runID
        await save(org, record, action: "workflow.run.start")
        announce(org, record, action: "workflow.run.start")
        var context: [String: JSONValue] = [
            "inputs": .object(record.inputs),
            "steps": .object([:]),
            "trigger": record.trigger.context,
            // The run's date: the day its schedule named (UTC), else the day it was fired.
            "run": .object(["id": .string(record.id), "date": .string(String((record.trigger.scheduledFor ?? record.created).prefix(10)))]),
        ]
        if case .object(let saved)? = record.context { context = saved }
        if record.resumeAt != nil, let last = record.steps.indices.last, record.steps[last].kind == "approval" {
            // Approved: the approval step succeeded.
            record.steps[last].outcome = .succeeded
            setStep(&context, record.steps[last].id, record.steps[last], value: nil)
        }
        let first = record.resumeAt ?? 0
        record.resumeAt = nil
        record.context = nil
        var failure: String?
        var cancelled = false
        for (index, step) in definition.steps.enumerated() where index >= first {
            if active.cancelled.load(ordering: .relaxed) {
                cancelled = true
                failure = "cancelled before step \(step.id)"
                break
            }
            // Disabling binds before the next step, whatever the run is doing.
            if let now = try? await self.state(org, record.project, record.workflow), !now.enabled {
                failure = "the workflow was disabled during the run, before step \(step.id)"
                break
            }
            var result = WorkflowRun.Step(id: step.id, kind: step.kind, outcome: .skipped, attempts: 0, calls: [], error: nil, commits: [])
            if let condition = step.condition, record.steps.first(where: { $0.id == condition.step })?.outcome != condition.outcome {
                record.steps.append(result)
                setStep(&context, step.id, result, value: nil)
                continue
            }
            if step.isApproval {
                return await pause(org, record, at: index, step: step, session: session, definition: definition, context: context)
            }
            var value: JSONValue?
            do {
                if step.isAgent {
                    let prompt = try Template.render(.string(step.prompt ?? ""), .object(context))
                    let text = { if case .string(let s) = prompt { s } else { prompt.text } }()
                    (result, value) = await runAgent(org, step, prompt: text, session: session, project: record.project, result: result)
                } else {
                    let rendered = try Template.render(.object(step.arguments), .object(context))
                    guard case .object(let arguments) = rendered else { throw CairnError(.invalidArgument, "arguments must be an object") }
                    (result, value) = await attempt(step, arguments, session: session, result: result, active: active)
                }
            } catch {
                result.outcome = .failed
                result.error = "the arguments could not be rendered: \(Self.describe(error))"
            }
            record.steps.append(result)
            setStep(&context, step.id, result, value: value)
            if active.cancelled.load(ordering: .relaxed) {
                cancelled = true
                failure = "cancelled during step \(step.id)"
                break
            }
            await save(org, record, action: "workflow.run.step")
            announce(org, record, action: "workflow.run.step", step: result)
            if result.outcome == .failed {
                let call = result.calls.last.map { " (call \($0))" } ?? ""
                let why = "step \(step.id) (\(step.kind))\(call) failed: \(result.error ?? "")"
                if definition.onFailure == .continue {
                    failure = failure ?? why
                    continue
                }
                failure = why
                break
            }
        }
        return await end(org, record, session: session, definition: definition, failure: failure, cancelled: cancelled)
    }

    /// An approval step: the engine run so far ends (its branch kept, holding the run's
    /// changes), the request goes to the approval queue, and the run is recorded as paused with
    /// what it needs to continue. Nothing waits in memory: the scheduler continues it when the
    /// request is decided, or ends it when it expires.
    func pause(
        _ org: OrganizationRecord,
        _ start: WorkflowRun,
        at index: Int,
        step: WorkflowDefinition.Step,
        session: RunSession,
        definition: WorkflowDefinition,
        context: [String: JSONValue]
    ) async -> WorkflowRun {
        var record = start
        let ended = await engine.stop(session, why: "paused at approval step \(step.id)")
        record.earlier = (record.earlier ?? []) + [ended.id]
        let now = Int64(clock.now().timeIntervalSince1970 * 1000)
        let expires = now + Int64(step.expiresSeconds) * 1000
        let caller = caller(
            org,
            definition,
            record.project,
            (try? await state(org, record.project, record.workflow)) ?? WorkflowState(project: record.project, workflow: record.workflow)
        )
        do {
            let rendered = try Template.render(.string(step.summary ?? "workflow \(record.workflow) asks to continue"), .object(context))
            let request = try await gateway.review.requestStepApproval(
                caller,
                project: record.project,
                target: definition.target,
                runBranch: ended.branch,
                base: ended.base,
                summary: { if case .string(let s) = rendered { s } else { rendered.text } }(),
                detail: ["workflow": record.workflow, "run": record.id, "step": step.id],
                expires: Clock.rfc3339(expires)
            )
            record.approval = request.id
        } catch {
            let why = "step \(step.id) (approval) could not be queued: \(Self.describe(error))"
            return await end(org, record, session: session, definition: definition, failure: why, cancelled: false)
        }
        record.steps.append(
            WorkflowRun.Step(id: step.id, kind: "approval", outcome: .skipped, attempts: 1, calls: [], error: nil, commits: [])
        )
        record.status = .paused
        record.resumeAt = index + 1
        record.context = .object(context)
        let paused = PausedRun(approval: record.approval!, expires: expires)
        let saved = record
        do {
            let decision = try await engineDecision(org, record.project, "workflow.run.pause")
            _ = try await gateway.updateWorkflow(
                system(org, "workflow \(record.workflow) run \(record.id) waits for approval"),
                action: "workflow.run.pause",
                decision: decision,
                target: AccessTarget(project: record.project),
                detail: ["workflow": record.workflow, "run": record.id, "approval": paused.approval]
            ) { _, _ in
                (
                    [
                        .write(path: Workflow.workflowRun(saved.project, saved.workflow, saved.id), content: Workflow.encode(saved)),
                        .write(path: Workflow.workflowPaused(saved.project, saved.workflow, saved.id), content: Workflow.encode(paused)),
                        .delete(Workflow.workflowRunning(saved.project, saved.workflow, saved.id)),
                    ], ()
                )
            }
        } catch {
            logger.error("a paused workflow run could not be recorded", metadata: ["run": "\(record.id)", "error": "\(error)"])
        }
        announce(org, record, action: "workflow.run.paused")
        return record
    }

    func setStep(_ context: inout [String: JSONValue], _ id: String, _ step: WorkflowRun.Step, value: JSONValue?) {
        guard case .object(var steps)? = context["steps"] else { return }
        steps[id] = .object([
            "outcome": .string(step.outcome.rawValue),
            "value": value ?? .null,
            "error": step.error.map(JSONValue.string) ?? .null,
            "commits": .array(step.commits.map(JSONValue.string)),
        ])
        context["steps"] = .object(steps)
    }

    /// One step's call, retried by its policy. A retry first looks at the record of the attempt
    /// before: if that call committed, the step is done and nothing is repeated.
    func attempt(
        _ step: WorkflowDefinition.Step,
        _ arguments: [String: JSONValue],
        session: RunSession,
        result start: WorkflowRun.Step,
        active: Active
    ) async -> (WorkflowRun.Step, JSONValue?) {
        var result = start
        for attempt in 0...step.retries {
            if attempt > 0 {
                if let last = result.calls.last, let call = await session.run.calls.first(where: { $0.seq == last }), !call.commits.isEmpty
                {
                    result.outcome = .succeeded
                    result.commits = call.commits
                    result.error = nil
                    return (result, nil)
                }
                // The backoff is waited in short slices, so a cancellation ends it promptly.
                let until =
                    DispatchTime.now().uptimeNanoseconds + UInt64(min(step.backoffSeconds * pow(2, Double(attempt - 1)), 3600) * 1e9)
                while DispatchTime.now().uptimeNanoseconds < until && !active.cancelled.load(ordering: .relaxed) {
                    if await session.run.status != .running { break }
                    try? await Task.sleep(for: .milliseconds(50))
                }
                if active.cancelled.load(ordering: .relaxed) { return (result, nil) }
                if await session.run.status != .running {
                    result.error = "its engine run ended while the step waited to retry: \(await session.run.message ?? "")"
                    return (result, nil)
                }
            }
            result.attempts = attempt + 1
            let answer = await call(session, step, arguments)
            // The call's own record (by its number), never another call's.
            let record = await answer.seq.asyncFlatMap { seq in await session.run.calls.first { $0.seq == seq } }
            if let seq = record?.seq { result.calls.append(seq) }
            result.commits = record?.commits ?? []
            if let error = answer.error {
                result.outcome = .failed
                result.error = error.code == .timeout ? error.message : "\(error.code.rawValue): \(error.message)"
                // Refused, or the run is over (its engine run ended under it): retrying cannot help.
                if error.code == .permissionDenied || error.code == .unauthenticated { break }
                if await session.run.status != .running {
                    result.error = (result.error ?? "") + "; its engine run ended: \(await session.run.message ?? "")"
                    break
                }
                continue
            }
            result.outcome = .succeeded
            result.error = nil
            return (result, answer.value)
        }
        return (result, nil)
    }

    /// A call with the step's timeout: past it the call is cancelled (computations stop at their
    /// next check) and the step fails, unless the call had already committed.
    func call(_ session: RunSession, _ step: WorkflowDefinition.Step, _ arguments: [String: JSONValue]) async -> RunSession.Answer {
        var arguments = arguments
        if ["Write", "Edit", "Delete"].contains(step.kind) || (["Run", "Solve"].contains(step.kind) && arguments["reason"] == nil) {
            if arguments["reason"] == nil { arguments["reason"] = .string("workflow step \(step.id)") }
        }
        let frozen = arguments
        return await withTaskGroup(of: RunSession.Answer?.self) { group in
            group.addTask { await session.call(step.kind, frozen) }
            group.addTask {
                try? await Task.sleep(for: .seconds(step.timeoutSeconds))
                return nil
            }
            let first = await group.next() ?? nil
            if let first {
                group.cancelAll()
                return first
            }
            group.cancelAll()
            let late = await group.next() ?? nil
            if let late, late.error == nil { return late }
            return RunSession.Answer(
                text: "",
                error: CairnError(.timeout, "timed out after \(step.timeoutSeconds) s")
            )
        }
    }

    /// Ends the run's engine run by the outcome and the failure policy.
    func end(
        _ org: OrganizationRecord,
        _ start: WorkflowRun,
        session: RunSession,
        definition: WorkflowDefinition,
        failure: String?,
        cancelled: Bool
    ) async -> WorkflowRun {
        var record = start
        record.failure = failure
        let stopped = failure != nil && (definition.onFailure != .continue || cancelled)
        if !stopped {
            let run = await engine.end(session)
            record.status = failure == nil ? .succeeded : .failed
            record.outcome = run.status.rawValue
            record.mergeCommit = run.mergeCommit
            record.mergeRequest = run.mergeRequest
            if [.failed, .conflicts].contains(run.status) {
                record.status = .failed
                record.failure =
                    record.failure
                    ?? "the run's changes could not be merged into \(definition.target): \(run.message ?? run.status.rawValue)"
            } else {
                // The engine runs that ended at approval steps: their changes went with this one.
                await dropEarlierBranches(org, record)
            }
            return record
        }
        record.status = cancelled ? .cancelled : .failed
        let run = await engine.stop(session, why: failure ?? "failed")
        record.outcome = run.status.rawValue
        if definition.onFailure == .rollback {
            record = await discard(org, record, runs: (record.earlier ?? []) + [run.id])
        }
        return record
    }

    /// The failure policy `rollback`: every engine run of the workflow run is undone (never
    /// merged: its branch goes), so the target is exactly as before.
    func discard(_ org: OrganizationRecord, _ start: WorkflowRun, runs: [String]) async -> WorkflowRun {
        var record = start
        for id in runs {
            do {
                let undone = try await gateway.rollbackAgentRun(
                    system(org, "workflow \(record.workflow) run \(record.id) failed; its failure policy discards its changes"),
                    project: record.project,
                    id: id
                )
                record.outcome = undone.status.rawValue
            } catch let e as CairnError where e.code == .conflict && e.message.contains("already rolled back") {
                record.outcome = "rolled_back"
            } catch {
                record.failure = (record.failure ?? "") + "; a branch could not be discarded: \(Self.describe(error))"
            }
        }
        return record
    }

    func dropEarlierBranches(_ org: OrganizationRecord, _ record: WorkflowRun) async {
        for id in record.earlier ?? [] {
            guard let run = try? await gateway.agentRunHeader(org, project: record.project, id: id) else { continue }
            try? await gateway.history.deleteBranch(
                system(org, "workflow run \(record.id) went on past its approval"),
                project: record.project,
                branch: run.branch
            )
        }
    }

    /// Takes a paused run out of the paused index, marked running (compare-and-swap: one taker
    /// wins); nil if it is not paused any more.
    func takePaused(_ org: OrganizationRecord, _ project: String, _ name: String, _ id: String, action: String) async throws -> WorkflowRun?
    {
        let runPath = Workflow.workflowRun(project, name, id)
        let pausedPath = Workflow.workflowPaused(project, name, id)
        let gateway = self.gateway
        let decision = try await engineDecision(org, project, action)
        return try await gateway.updateWorkflow(
            system(org, "workflow \(name) run \(id) leaves its approval step"),
            action: action,
            decision: decision,
            target: AccessTarget(project: project),
            detail: ["workflow": name, "run": id]
        ) { workflow, _ -> (changes: [FileChange], result: WorkflowRun?) in
            guard var r = try await gateway.workflowRecord(WorkflowRun.self, runPath, in: workflow)?.0, r.status == .paused else {
                return ([], nil)
            }
            r.status = .running
            r.claimed = Clock.nowMillis()
            return (
                [
                    .write(path: runPath, content: Workflow.encode(r)), .delete(pausedPath),
                    .write(path: Workflow.workflowRunning(project, name, id), content: Array("{}".utf8)),
                ], r
            )
        }.0
    }

    /// A paused run whose approval was rejected or expired (or that was cancelled): ended by
    /// its failure policy (a refusal never lets the changes through: `continue` keeps the
    /// branch, as `keep` does).
    func conclude(_ org: OrganizationRecord, _ paused: WorkflowRun, why: String, status: WorkflowRun.Status = .failed) async -> WorkflowRun
    {
        var record = paused
        record.status = status
        record.failure = why
        if let last = record.steps.indices.last, record.steps[last].kind == "approval" {
            record.steps[last].outcome = .failed
            record.steps[last].error = why
        }
        record.resumeAt = nil
        record.context = nil
        record.outcome = "interrupted"
        if let definition = try? await definition(org, project: record.project, name: record.workflow).0, definition.onFailure == .rollback
        {
            record = await discard(org, record, runs: record.earlier ?? [])
        }
        record.finished = Clock.rfc3339(Clock.nowMillis())
        await finish(org, record)
        announce(org, record, action: "workflow.run.finish")
        return record
    }

    func failed(_ record: WorkflowRun, _ why: String) -> WorkflowRun {
        var r = record
        r.status = .failed
        r.failure = why
        return r
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? CairnError { return "\(e.clientFacing.code.rawValue): \(e.clientFacing.message)" }
        return "\(error)"
    }

    func announce(_ org: OrganizationRecord, _ record: WorkflowRun, action: String, step: WorkflowRun.Step? = nil) {
        var event = ChangeEvent(
            project: record.project,
            branch: "",
            commit: step?.commits.last,
            paths: [],
            actor: "workflow:\(record.workflow)",
            action: action,
            time: Clock.rfc3339(Clock.nowMillis())
        )
        event.run = record.run
        event.tool = step?.kind
        event.outcome = step.map { "\($0.id): \($0.outcome.rawValue)" } ?? record.status.rawValue
        gateway.feed.publish(organization: org.id, event)
    }

    // MARK: Retention

    /// Drops finished run records past the definition's retention from the live index; the
    /// commits they made, and the records' own history, stay.
    func prune(_ org: OrganizationRecord, _ project: String, _ name: String) async {
        do {
            let (definition, _) = try await definition(org, project: project, name: name)
            let workflow = try await gateway.workflowProject(org)
            let prefix = Workflow.workflowRuns(project, name)
            var paths: [String] = []
            var after: String?
            repeat {
                let page = try await workflow.glob(prefix + "*.json", at: "main", limit: 5000, after: after)
                paths += page.paths
                after = page.next
            } while after != nil
            var drop: [String] = []
            switch definition.retention {
            case .runs(let keep):
                if paths.count > keep { drop = Array(paths.prefix(paths.count - keep)) }
            case .days(let days):
                let cutoff = Clock.nowMillis() - Int64(days) * 86_400_000
                for path in paths {
                    let id = String(path.dropFirst(prefix.count).prefix(9))
                    if let ms = Int64(id, radix: 36), ms < cutoff { drop.append(path) }
                }
            }
            // Runs still going are never pruned.
            var gone: [FileChange] = []
            for path in drop {
                let (_, _, bytes) = try await workflow.readBytes(path, at: "main")
                if let r = try? JSONDecoder().decode(WorkflowRun.self, from: Data(bytes)), r.status != .running, r.status != .fired {
                    gone.append(.delete(path))
                }
            }
            guard !gone.isEmpty else { return }
            _ = try await gateway.updateWorkflow(
                system(org, "retention of workflow \(name)'s runs"),
                action: "workflow.run.prune",
                decision: try await engineDecision(org, project, "workflow.run.prune"),
                target: AccessTarget(project: project),
                detail: ["workflow": name, "pruned": String(gone.count)]
            ) { _, _ in (gone, ()) }
        } catch {
            logger.warning("a workflow's old runs could not be pruned", metadata: ["workflow": "\(name)", "error": "\(error)"])
        }
    }
}

extension Optional {
    /// `flatMap` with an async transform.
    fileprivate func asyncFlatMap<U>(_ transform: (Wrapped) async -> U?) async -> U? {
        guard let value = self else { return nil }
        return await transform(value)
    }
}
