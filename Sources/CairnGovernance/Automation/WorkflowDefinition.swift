import CairnCore
import CairnStore
import Foundation

/// A workflow as its definition file says, `.cairn/workflows/NAME.json` in the project: standing
/// work (what to do, when, with which authority, and what happens when a step fails) versioned
/// like every other file, and validated on every commit that touches it, so a definition that
/// is in the tree is always one the engine can run.
///
/// ```json
/// {"target": "main", "scope": {"role": "editor", "path": "routes/**"},
///  "inputs": {"date": {"type": "string", "required": true}},
///  "triggers": [{"kind": "manual"}, {"kind": "cron", "schedule": "0 6 * * *", "timeZone": "Europe/Helsinki"}],
///  "steps": [{"id": "write", "kind": "Write",
///             "arguments": {"path": "routes/{{inputs.date}}.json", "content": "{}", "reason": "daily plan"}}],
///  "onFailure": "rollback", "retention": {"runs": 100}}
/// ```
public struct WorkflowDefinition: Sendable, Equatable {
    /// Where definitions live in a project.
    public static let root = ".cairn/workflows/"

    /// A declared input of a manual run (or the value a trigger supplies).
    public struct Input: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable { case string, number, integer, boolean, object, array }
        public let type: Kind
        public let required: Bool
        public let defaultValue: JSONValue?
    }

    /// What starts a run.
    public enum Trigger: Sendable, Equatable {
        /// Someone with `run` on the project asks for it (HTTP, CLI).
        case manual
        /// A five-field cron schedule in a time zone.
        case cron(CronTrigger)
        /// Commits on a branch that change paths matching a glob (never the workflow's own).
        case path(PathTrigger)
        /// Merge-request events on the workflow's target.
        case mergeRequest(events: Set<MergeRequestEvent>)
        /// Another workflow of the project ending with one of `outcomes`.
        case completion(workflow: String, outcomes: Set<RunOutcome>)
    }

    /// A watched glob: commits changing matching paths fire a run with those paths, the
    /// commits of `debounceSeconds` after the first one collected into that one run.
    public struct PathTrigger: Sendable, Equatable {
        public let glob: String
        public let branch: String
        public let debounceSeconds: Int
    }

    /// The merge-request events a workflow may react to: `updated` is a new commit on an open
    /// request's source branch.
    public enum MergeRequestEvent: String, Sendable, CaseIterable { case opened, updated, approved }

    /// How a run ended, for completion triggers.
    public enum RunOutcome: String, Sendable, CaseIterable { case succeeded, failed }

    /// How deep a chain of workflows firing each other (by completion or by their commits) may
    /// go: the run that would be one deeper is recorded as skipped, saying so.
    public static let maxChainDepth = 5

    /// A schedule and what to do about firings missed while no server ran, or while a run is
    /// still going.
    public struct CronTrigger: Sendable, Equatable {
        /// After downtime: fire nothing missed, only the latest missed firing, or every firing
        /// missed within `catchUpWindowSeconds`.
        public enum CatchUp: String, Sendable, CaseIterable { case skip, one, all }
        /// When a firing comes while an earlier run is still going: drop it, run it after, or
        /// cancel the earlier run.
        public enum Overlap: String, Sendable, CaseIterable { case skip, queue, cancel }
        public let schedule: CronSchedule
        public let catchUp: CatchUp
        public let catchUpWindowSeconds: Int
        public let overlap: Overlap
    }

    /// One step: a primitive call with templated arguments, run if its condition holds.
    public struct Step: Sendable, Equatable {
        public let id: String
        /// One of the eight primitives, `approval` (the run waits for a person) or `agent` (an
        /// agent program works through the eight tools on the run's own session).
        public let kind: String
        public let arguments: [String: JSONValue]
        /// An approval step: what the approver is asked (a template), and how long they have.
        public var summary: String? = nil
        public var expiresSeconds: Int = 7 * 86400
        public var isApproval: Bool { kind == "approval" }
        /// An agent step: which of the server's agent hosts to launch, and its prompt (a template).
        public var host: String? = nil
        public var prompt: String? = nil
        public var isAgent: Bool { kind == "agent" }
        /// Run only if step `step` ended with `outcome`.
        public let condition: (step: String, outcome: StepOutcome)?
        public let timeoutSeconds: Int
        public let retries: Int
        public let backoffSeconds: Double

        public static func == (a: Step, b: Step) -> Bool {
            a.id == b.id && a.kind == b.kind && a.arguments == b.arguments && a.condition?.step == b.condition?.step
                && a.condition?.outcome == b.condition?.outcome && a.timeoutSeconds == b.timeoutSeconds && a.retries == b.retries
                && a.backoffSeconds == b.backoffSeconds && a.summary == b.summary && a.expiresSeconds == b.expiresSeconds
                && a.host == b.host && a.prompt == b.prompt
        }
    }

    /// How a step ended.
    public enum StepOutcome: String, Sendable, Codable, CaseIterable { case succeeded, failed, skipped }

    /// What a failed step does to the run.
    public enum FailurePolicy: String, Sendable, Codable, CaseIterable {
        /// The run's branch is discarded: the target is exactly as before the run.
        case rollback
        /// The run stops and its branch stays for a person to merge or discard.
        case keep
        /// The failure is recorded and the next step runs.
        case `continue`
    }

    /// How long finished runs' records stay in the live index (their commits stay in history).
    public enum Retention: Sendable, Equatable {
        case runs(Int)
        case days(Int)
    }

    public let name: String
    public let description: String?
    public let target: String
    /// The workflow's authority: a role of the organization, optionally narrowed to a glob.
    public let role: String
    public let path: String?
    public let inputs: [String: Input]
    public let triggers: [Trigger]
    public let steps: [Step]
    public let onFailure: FailurePolicy
    public let retention: Retention

    /// The path-watch triggers, by their index in `triggers`.
    public var watches: [(index: Int, trigger: PathTrigger)] {
        triggers.enumerated().compactMap { if case .path(let p) = $1 { ($0, p) } else { nil } }
    }

    /// The cron triggers.
    public var schedules: [CronTrigger] {
        triggers.compactMap { if case .cron(let c) = $0 { c } else { nil } }
    }

    /// Whether someone may start it by hand.
    public var isManual: Bool { triggers.contains(.manual) }

    /// The workflow's name for the definition at `path`, nil if `path` is not a definition's.
    public static func name(of path: String) -> String? {
        guard path.hasPrefix(root), path.hasSuffix(".json") else { return nil }
        let name = String(path.dropFirst(root.count).dropLast(5))
        return isName(name) ? name : nil
    }

    /// The definition file of workflow `name`.
    public static func path(_ name: String) -> String { root + name + ".json" }

    /// Names are 1 to 64 of letters, digits, `-` and `_`: one path segment, safe in URLs.
    public static func isName(_ s: String) -> Bool {
        (1...64).contains(s.count) && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// Parses and validates a definition; every problem found is thrown at once, as
    /// `invalid_workflow` with one violation per problem (its JSON pointer and what to do).
    public static func parse(_ bytes: [UInt8], path: String) throws(CairnError) -> WorkflowDefinition {
        var parser = DefinitionParser(path: path)
        let definition = parser.parse(bytes)
        if !parser.problems.isEmpty || definition == nil {
            throw CairnError(
                .invalidWorkflow,
                "the workflow definition \(path) has \(parser.problems.count) problem(s): "
                    + parser.problems.prefix(3).map { "\($0.pointer.isEmpty ? "/" : $0.pointer): \($0.message)" }.joined(separator: "; "),
                details: ["path": path, "problems": String(parser.problems.count)],
                violations: parser.problems
            )
        }
        return definition!
    }

    /// The commit check of definitions: every definition the change writes must parse, and
    /// nothing else may sit under `.cairn/workflows/`.
    static func check(_ staged: StagedCommit) async throws {
        for (path, content) in staged.changes where path.hasPrefix(root) {
            guard let content else { continue }
            guard name(of: path) != nil else {
                throw CairnError(
                    .invalidWorkflow,
                    "\(path) is not a workflow definition's path: definitions are \(root)NAME.json, NAME of 1 to 64 letters, "
                        + "digits, '-' or '_'",
                    details: ["path": path],
                    violations: [Violation(constraint: "path", path: path, pointer: "", message: "not a definition's path")]
                )
            }
            _ = try parse(content, path: path)
        }
    }
}

extension WorkflowDefinition.Step {
    /// Every template reference in the arguments (`inputs.x`, `steps.a.value.b`, …).
    public var references: [TemplateReference] {
        var out: [TemplateReference] = []
        func walk(_ v: JSONValue) {
            switch v {
            case .string(let s): out += (try? Template.parse(s).references) ?? []
            case .array(let a): a.forEach(walk)
            case .object(let o): o.values.forEach(walk)
            default: break
            }
        }
        arguments.values.forEach(walk)
        return out
    }
}
