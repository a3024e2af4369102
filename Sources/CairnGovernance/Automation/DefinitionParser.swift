import CairnCore
import CairnStore
import Foundation

/// Reads a workflow definition and collects every problem in it, each at its JSON pointer, so
/// one refusal lists them all instead of one per attempt.
struct DefinitionParser {
    let path: String
    var problems: [Violation] = []

    /// The eight primitives a step may call.
    static let primitives: Set<String> = ["Read", "Write", "Edit", "Delete", "Glob", "Grep", "Run", "Solve"]

    init(path: String) { self.path = path }

    mutating func problem(_ pointer: String, _ constraint: String, _ message: String) {
        problems.append(Violation(constraint: constraint, path: path, pointer: pointer, message: message))
    }

    mutating func parse(_ bytes: [UInt8]) -> WorkflowDefinition? {
        guard let name = WorkflowDefinition.name(of: path) else {
            problem("", "path", "definitions are \(WorkflowDefinition.root)NAME.json, NAME of 1 to 64 letters, digits, '-' or '_'")
            return nil
        }
        guard case .object(let o)? = JSONValue.parse(bytes, rejectingDuplicateMembers: true) else {
            problem("", "json", "the definition must be one JSON object (with no member named twice)")
            return nil
        }
        let known: Set<String> = ["description", "target", "scope", "inputs", "triggers", "steps", "onFailure", "retention"]
        for key in o.keys.sorted() where !known.contains(key) {
            problem(
                "/\(JSONValue.escape(key))",
                "unknown_member",
                "unknown member '\(key)'; the members are \(known.sorted().joined(separator: ", "))"
            )
        }
        let description = string(o["description"], "/description", required: false)
        let target = string(o["target"], "/target", required: false) ?? "main"
        if target.isEmpty || target.hasPrefix("agent-runs/") { problem("/target", "target", "the target must be a branch people work on") }
        let (role, glob) = scope(o["scope"])
        let inputs = self.inputs(o["inputs"])
        let triggers = self.triggers(o["triggers"], target: target, name: name)
        let steps = self.steps(o["steps"], inputs: inputs)
        var onFailure = WorkflowDefinition.FailurePolicy.rollback
        if let v = o["onFailure"] {
            if case .string(let s) = v, let p = WorkflowDefinition.FailurePolicy(rawValue: s) {
                onFailure = p
            } else {
                problem("/onFailure", "on_failure", "onFailure is one of rollback, keep, continue")
            }
        }
        let retention = self.retention(o["retention"])
        guard problems.isEmpty, let role else { return nil }
        return WorkflowDefinition(
            name: name,
            description: description,
            target: target,
            role: role,
            path: glob,
            inputs: inputs,
            triggers: triggers,
            steps: steps,
            onFailure: onFailure,
            retention: retention
        )
    }

    mutating func string(_ v: JSONValue?, _ pointer: String, required: Bool) -> String? {
        switch v {
        case .string(let s)?: return s
        case nil: if required { problem(pointer, "required", "\(pointer) is required (a string)") }
        default: problem(pointer, "type", "\(pointer) must be a string")
        }
        return nil
    }

    mutating func integer(_ v: JSONValue?, _ pointer: String, _ range: ClosedRange<Int>, default d: Int) -> Int {
        guard let v else { return d }
        if let n = v.number, let i = Int(exactly: n), range.contains(i) { return i }
        problem(pointer, "range", "\(pointer) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        return d
    }

    mutating func scope(_ v: JSONValue?) -> (String?, String?) {
        guard case .object(let o)? = v else {
            problem("/scope", "scope", "scope is required: {\"role\": ROLE} or {\"role\": ROLE, \"path\": GLOB}")
            return (nil, nil)
        }
        for key in o.keys.sorted() where key != "role" && key != "path" {
            problem("/scope/\(JSONValue.escape(key))", "unknown_member", "a scope has a role and, optionally, a path glob")
        }
        let role = string(o["role"], "/scope/role", required: true)
        let glob = string(o["path"], "/scope/path", required: false)
        if let glob {
            do { _ = try Glob(glob) } catch { problem("/scope/path", "glob", "not a valid glob: \(error.message)") }
        }
        return (role, glob)
    }

    mutating func inputs(_ v: JSONValue?) -> [String: WorkflowDefinition.Input] {
        guard let v else { return [:] }
        guard case .object(let o) = v else {
            problem("/inputs", "type", "inputs is an object of NAME: {\"type\": …, \"required\": …}")
            return [:]
        }
        var out: [String: WorkflowDefinition.Input] = [:]
        for (name, spec) in o.sorted(by: { $0.key < $1.key }) {
            let at = "/inputs/\(JSONValue.escape(name))"
            guard WorkflowDefinition.isName(name) else {
                problem(at, "name", "input names are 1 to 64 letters, digits, '-' or '_'")
                continue
            }
            guard case .object(let s) = spec, case .string(let t)? = s["type"], let kind = WorkflowDefinition.Input.Kind(rawValue: t) else {
                problem(
                    at + "/type",
                    "type",
                    "an input's type is one of \(WorkflowDefinition.Input.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
                )
                continue
            }
            for key in s.keys.sorted() where !["type", "required", "default", "description"].contains(key) {
                problem("\(at)/\(JSONValue.escape(key))", "unknown_member", "an input has type, required, default and description")
            }
            var required = false
            if let r = s["required"] {
                if case .bool(let b) = r { required = b } else { problem(at + "/required", "type", "required is true or false") }
            }
            let input = WorkflowDefinition.Input(type: kind, required: required, defaultValue: s["default"])
            if let d = s["default"], !input.accepts(d) { problem(at + "/default", "type", "the default is not a \(t)") }
            out[name] = input
        }
        return out
    }

    mutating func triggers(_ v: JSONValue?, target: String, name: String) -> [WorkflowDefinition.Trigger] {
        guard case .array(let list)? = v, !list.isEmpty else {
            problem("/triggers", "triggers", "triggers is a non-empty array ({\"kind\": \"manual\"} to start runs by hand)")
            return []
        }
        var out: [WorkflowDefinition.Trigger] = []
        for (i, t) in list.enumerated() {
            let at = "/triggers/\(i)"
            guard case .object(let o) = t, case .string(let kind)? = o["kind"] else {
                problem(at + "/kind", "trigger_kind", "each trigger is an object with a kind")
                continue
            }
            switch kind {
            case "manual":
                for key in o.keys.sorted() where key != "kind" {
                    problem("\(at)/\(JSONValue.escape(key))", "unknown_member", "a manual trigger has only a kind")
                }
                out.append(.manual)
            case "cron":
                let known: Set<String> = ["kind", "schedule", "timeZone", "catchUp", "catchUpWindowSeconds", "overlap"]
                for key in o.keys.sorted() where !known.contains(key) {
                    problem(
                        "\(at)/\(JSONValue.escape(key))",
                        "unknown_member",
                        "a cron trigger has \(known.sorted().joined(separator: ", "))"
                    )
                }
                let expression = string(o["schedule"], at + "/schedule", required: true)
                let zone = string(o["timeZone"], at + "/timeZone", required: false) ?? "UTC"
                var schedule: CronSchedule?
                let zoneKnown = TimeZone(identifier: zone) != nil
                if !zoneKnown { problem(at + "/timeZone", "time_zone", "'\(zone)' is not an IANA time zone (like Europe/Helsinki or UTC)") }
                if let expression {
                    // The fields are checked even when the zone is wrong, so both are reported.
                    do { schedule = try CronSchedule(expression, timeZone: zoneKnown ? zone : "UTC") } catch {
                        problem(at + "/schedule", "cron", error.message)
                    }
                }
                var catchUp = WorkflowDefinition.CronTrigger.CatchUp.skip
                if let c = o["catchUp"] {
                    if case .string(let s) = c, let p = WorkflowDefinition.CronTrigger.CatchUp(rawValue: s) {
                        catchUp = p
                    } else {
                        problem(at + "/catchUp", "catch_up", "catchUp is one of skip, one, all")
                    }
                }
                var overlap = WorkflowDefinition.CronTrigger.Overlap.skip
                if let c = o["overlap"] {
                    if case .string(let s) = c, let p = WorkflowDefinition.CronTrigger.Overlap(rawValue: s) {
                        overlap = p
                    } else {
                        problem(at + "/overlap", "overlap", "overlap is one of skip, queue, cancel")
                    }
                }
                let window = integer(o["catchUpWindowSeconds"], at + "/catchUpWindowSeconds", 60...(366 * 86400), default: 86400)
                if let schedule {
                    out.append(.cron(.init(schedule: schedule, catchUp: catchUp, catchUpWindowSeconds: window, overlap: overlap)))
                }
            case "path":
                let known: Set<String> = ["kind", "glob", "branch", "debounceSeconds"]
                for key in o.keys.sorted() where !known.contains(key) {
                    problem(
                        "\(at)/\(JSONValue.escape(key))",
                        "unknown_member",
                        "a path trigger has \(known.sorted().joined(separator: ", "))"
                    )
                }
                let glob = string(o["glob"], at + "/glob", required: true)
                if let glob {
                    do { _ = try Glob(glob) } catch { problem(at + "/glob", "glob", "not a valid glob: \(error.message)") }
                }
                let branch = string(o["branch"], at + "/branch", required: false)
                let debounce = integer(o["debounceSeconds"], at + "/debounceSeconds", 0...3600, default: 5)
                if let glob { out.append(.path(.init(glob: glob, branch: branch ?? target, debounceSeconds: debounce))) }
            case "mergeRequest":
                for key in o.keys.sorted() where key != "kind" && key != "events" {
                    problem("\(at)/\(JSONValue.escape(key))", "unknown_member", "a mergeRequest trigger has kind and events")
                }
                var events = Set<WorkflowDefinition.MergeRequestEvent>()
                if case .array(let list)? = o["events"], !list.isEmpty {
                    for (j, e) in list.enumerated() {
                        if case .string(let s) = e, let ev = WorkflowDefinition.MergeRequestEvent(rawValue: s) {
                            events.insert(ev)
                        } else {
                            problem("\(at)/events/\(j)", "event", "merge-request events are opened, updated and approved")
                        }
                    }
                } else {
                    problem(at + "/events", "events", "events is a non-empty array of opened, updated, approved")
                }
                out.append(.mergeRequest(events: events))
            case "workflow":
                for key in o.keys.sorted() where key != "kind" && key != "workflow" && key != "outcomes" {
                    problem("\(at)/\(JSONValue.escape(key))", "unknown_member", "a workflow trigger has kind, workflow and outcomes")
                }
                let other = string(o["workflow"], at + "/workflow", required: true) ?? ""
                if !other.isEmpty && !WorkflowDefinition.isName(other) { problem(at + "/workflow", "name", "not a workflow name") }
                if other == name { problem(at + "/workflow", "loop", "a workflow cannot be fired by its own completion") }
                var outcomes = Set(WorkflowDefinition.RunOutcome.allCases)
                if let list = o["outcomes"] {
                    outcomes = []
                    if case .array(let items) = list, !items.isEmpty {
                        for (j, e) in items.enumerated() {
                            if case .string(let s) = e, let oc = WorkflowDefinition.RunOutcome(rawValue: s) {
                                outcomes.insert(oc)
                            } else {
                                problem("\(at)/outcomes/\(j)", "outcome", "outcomes are succeeded and failed")
                            }
                        }
                    } else {
                        problem(at + "/outcomes", "outcomes", "outcomes is a non-empty array of succeeded, failed")
                    }
                }
                out.append(.completion(workflow: other, outcomes: outcomes))
            default:
                problem(
                    at + "/kind",
                    "trigger_kind",
                    "unknown trigger kind '\(kind)'; the kinds are manual, cron, path, mergeRequest and workflow"
                )
            }
        }
        return out
    }

    mutating func steps(_ v: JSONValue?, inputs: [String: WorkflowDefinition.Input]) -> [WorkflowDefinition.Step] {
        guard case .array(let list)? = v, (1...100).contains(list.count) else {
            problem("/steps", "steps", "steps is an array of 1 to 100 steps")
            return []
        }
        var out: [WorkflowDefinition.Step] = []
        var seen = Set<String>()
        for (i, s) in list.enumerated() {
            let at = "/steps/\(i)"
            guard case .object(let o) = s else {
                problem(at, "type", "each step is an object")
                continue
            }
            let approval = o["kind"] == .string("approval")
            let agent = o["kind"] == .string("agent")
            let known: Set<String> =
                approval
                ? ["id", "kind", "if", "summary", "expiresSeconds"]
                : agent
                    ? ["id", "kind", "if", "host", "prompt", "timeoutSeconds"]
                    : ["id", "kind", "arguments", "if", "timeoutSeconds", "retry"]
            for key in o.keys.sorted() where !known.contains(key) {
                problem("\(at)/\(JSONValue.escape(key))", "unknown_member", "a step has \(known.sorted().joined(separator: ", "))")
            }
            let id = string(o["id"], at + "/id", required: true) ?? ""
            if !id.isEmpty {
                if !WorkflowDefinition.isName(id) { problem(at + "/id", "name", "step ids are 1 to 64 letters, digits, '-' or '_'") }
                if seen.contains(id) { problem(at + "/id", "duplicate_step", "step id '\(id)' is used twice") }
            }
            let kind = string(o["kind"], at + "/kind", required: true) ?? ""
            if !kind.isEmpty && !Self.primitives.contains(kind) && kind != "approval" && kind != "agent" {
                problem(
                    at + "/kind",
                    "step_kind",
                    "unknown step kind '\(kind)'; a step calls one of \(Self.primitives.sorted().joined(separator: ", ")), or is an approval "
                        + "or an agent"
                )
            }
            var arguments: [String: JSONValue] = [:]
            switch o["arguments"] {
            case .object(let a)?: arguments = a
            case nil: break
            default: problem(at + "/arguments", "type", "arguments is an object")
            }
            var condition: (String, WorkflowDefinition.StepOutcome)?
            if let c = o["if"] {
                if case .object(let co) = c, case .string(let step)? = co["step"], case .string(let oc)? = co["outcome"],
                    let outcome = WorkflowDefinition.StepOutcome(rawValue: oc), co.count == 2
                {
                    if !seen.contains(step) { problem(at + "/if/step", "missing_step", "'\(step)' is not an earlier step") }
                    condition = (step, outcome)
                } else {
                    problem(at + "/if", "condition", "if is {\"step\": EARLIER_STEP, \"outcome\": \"succeeded\"|\"failed\"|\"skipped\"}")
                }
            }
            let timeout = integer(o["timeoutSeconds"], at + "/timeoutSeconds", 1...3600, default: 300)
            var retries = 0
            var backoff = 1.0
            if let r = o["retry"] {
                if case .object(let ro) = r {
                    retries = integer(ro["count"], at + "/retry/count", 0...10, default: 0)
                    if let b = ro["backoffSeconds"] {
                        if let n = b.number, (0...3600).contains(n) {
                            backoff = n
                        } else {
                            problem(at + "/retry/backoffSeconds", "range", "backoffSeconds is 0 to 3600")
                        }
                    }
                    for key in ro.keys.sorted() where key != "count" && key != "backoffSeconds" {
                        problem("\(at)/retry/\(JSONValue.escape(key))", "unknown_member", "retry has count and backoffSeconds")
                    }
                } else {
                    problem(at + "/retry", "type", "retry is {\"count\": N, \"backoffSeconds\": S}")
                }
            }
            var step = WorkflowDefinition.Step(
                id: id,
                kind: kind,
                arguments: arguments,
                condition: condition,
                timeoutSeconds: timeout,
                retries: retries,
                backoffSeconds: backoff
            )
            references(arguments, at: at + "/arguments", earlier: seen, inputs: inputs)
            if agent {
                step.host = string(o["host"], at + "/host", required: true)
                step.prompt = string(o["prompt"], at + "/prompt", required: true)
                if let prompt = step.prompt { references(["prompt": .string(prompt)], at: at, earlier: seen, inputs: inputs) }
            }
            if approval {
                step.summary = string(o["summary"], at + "/summary", required: false)
                if let summary = step.summary { references(["summary": .string(summary)], at: at, earlier: seen, inputs: inputs) }
                step.expiresSeconds = integer(o["expiresSeconds"], at + "/expiresSeconds", 60...(30 * 86400), default: 7 * 86400)
            }
            seen.insert(id)
            out.append(step)
        }
        return out
    }

    /// Every reference must parse and name a declared input or an earlier step.
    mutating func references(
        _ arguments: [String: JSONValue],
        at pointer: String,
        earlier: Set<String>,
        inputs: [String: WorkflowDefinition.Input]
    ) {
        func walk(_ v: JSONValue, _ at: String) {
            switch v {
            case .string(let s) where s.contains("{{"):
                do {
                    for r in try Template.parse(s).references {
                        switch r.root {
                        case "inputs":
                            if let name = r.second, inputs[name] == nil {
                                problem(at, "missing_input", "'{{\(r.text)}}': no input '\(name)' is declared")
                            }
                            if r.second == nil { problem(at, "reference", "'{{\(r.text)}}' names no input") }
                        case "steps":
                            if let name = r.second, !earlier.contains(name) {
                                problem(at, "missing_step", "'{{\(r.text)}}': '\(name)' is not an earlier step")
                            }
                            if r.second == nil { problem(at, "reference", "'{{\(r.text)}}' names no step") }
                        default: break
                        }
                    }
                } catch {
                    problem(at, "template", error.message)
                }
            case .array(let a): for (i, x) in a.enumerated() { walk(x, "\(at)/\(i)") }
            case .object(let o): for (k, x) in o { walk(x, "\(at)/\(JSONValue.escape(k))") }
            default: break
            }
        }
        for (k, v) in arguments { walk(v, "\(pointer)/\(JSONValue.escape(k))") }
    }

    mutating func retention(_ v: JSONValue?) -> WorkflowDefinition.Retention {
        guard let v else { return .runs(1000) }
        guard case .object(let o) = v, o.count == 1, let (key, _) = o.first, key == "runs" || key == "days" else {
            problem("/retention", "retention", "retention is {\"runs\": N} (keep the last N) or {\"days\": D} (keep D days)")
            return .runs(1000)
        }
        if key == "runs" { return .runs(integer(o["runs"], "/retention/runs", 1...100_000, default: 1000)) }
        return .days(integer(o["days"], "/retention/days", 1...3650, default: 365))
    }
}

extension WorkflowDefinition.Input {
    /// Whether a value has this input's type.
    public func accepts(_ v: JSONValue) -> Bool {
        switch (type, v) {
        case (.string, .string), (.boolean, .bool), (.object, .object), (.array, .array): true
        case (.number, .int), (.number, .double), (.integer, .int): true
        case (.integer, .double(let d)): d.rounded() == d
        default: false
        }
    }
}
