import CairnCore
import CairnGovernance
import CairnStore
import Foundation

/// Whether a workflow may run, and who answers for it: kept in the organization's `_workflow`
/// project beside the runs (not in the definition), so enabling is an act of a person with its
/// own audit record, and editing a definition never enables anything.
public struct WorkflowState: Sendable, Codable, Equatable {
    public let project: String
    public let workflow: String
    public var enabled: Bool
    /// Paused: scheduled firings are recorded as skipped until it is resumed.
    public var paused: Bool
    /// The person whose authority bounds every call of its runs.
    public var enabledBy: String?
    /// Enabled from the server's machine by whoever holds the data folder: bounded by the
    /// workflow's scope alone.
    public var enabledLocally: Bool
    public var enabledAt: String?
    /// Per cron trigger (by its index): the last scheduled instant considered (ms since 1970),
    /// fired or skipped. A firing is recorded here before its run starts, in one commit.
    public var scheduled: [String: Int64]
    /// Per path trigger (by its index): the last commit of its branch considered. Commits after
    /// it are looked at for matching paths; a firing moves it, in the firing's commit.
    public var watermarks: [String: String]?

    public init(project: String, workflow: String) {
        self.project = project
        self.workflow = workflow
        enabled = false
        paused = false
        enabledLocally = false
        scheduled = [:]
    }
}

/// One run of a workflow: why it started, each step's outcome, and the engine run holding its
/// calls (whose record has every call, its reads and commits).
public struct WorkflowRun: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// Recorded as fired; its engine run has not started yet.
        case fired
        case running
        /// Every step done; its changes merged into the target (or wait in a merge request).
        case succeeded
        /// A step failed; what became of the run's changes is in `outcome`.
        case failed
        /// Ended by a person or by a newer firing (overlap `cancel`), by the failure policy.
        case cancelled
        /// A firing dropped by the overlap policy, or while paused: nothing ran.
        case skipped
        /// Waiting at an approval step for a person; no task or session is held meanwhile.
        case paused
    }

    /// What started it.
    public struct Trigger: Sendable, Codable, Equatable {
        /// `manual`, `cron`, `path`, `mergeRequest` or `workflow`.
        public let kind: String
        /// Who asked (manual), or the instant the schedule named (cron).
        public let by: String?
        public let scheduledFor: String?
        /// Path watch: the matching paths the commits changed, and those commits (oldest first).
        public var paths: [String]?
        public var commits: [String]?
        /// Merge-request events: the request and what happened to it.
        public var mergeRequest: Int?
        public var event: String?
        /// Completion: the workflow run that ended, and how.
        public var run: String?
        public var outcome: String?

        public init(kind: String, by: String? = nil, scheduledFor: String? = nil) {
            self.kind = kind
            self.by = by
            self.scheduledFor = scheduledFor
        }

        /// The trigger as the steps' templates see it (`{{trigger.paths}}` …).
        var context: JSONValue {
            var o: [String: JSONValue] = ["kind": .string(kind)]
            if let by { o["by"] = .string(by) }
            if let scheduledFor { o["scheduledFor"] = .string(scheduledFor) }
            if let paths { o["paths"] = .array(paths.map(JSONValue.string)) }
            if let commits { o["commits"] = .array(commits.map(JSONValue.string)) }
            if let mergeRequest { o["mergeRequest"] = .int(Int64(mergeRequest)) }
            if let event { o["event"] = .string(event) }
            if let run { o["run"] = .string(run) }
            if let outcome { o["outcome"] = .string(outcome) }
            return .object(o)
        }
    }

    /// One step as it went.
    public struct Step: Sendable, Codable, Equatable {
        public let id: String
        public let kind: String
        public var outcome: WorkflowDefinition.StepOutcome
        public var attempts: Int
        /// The engine run's call numbers this step made (one per attempt).
        public var calls: [Int]
        public var error: String?
        /// The commits the step made on the run's branch.
        public var commits: [String]
    }

    public let id: String
    public let project: String
    public let workflow: String
    public let trigger: Trigger
    /// How many workflow runs stand before this one in a chain (a run fired by another run's
    /// completion or commits is one deeper); 0 for a person's or a schedule's.
    public var depth: Int?
    public let inputs: [String: JSONValue]
    public var status: Status
    /// The definition's blob the run followed.
    public var definition: String?
    /// When a server claimed the firing to run it (ms since 1970).
    public var claimed: Int64?
    /// The engine run (`agent-runs`), once started.
    public var run: String?
    public var steps: [Step]
    /// Which step failed, with which call and error.
    public var failure: String?
    /// What became of its changes: the engine run's final status (merged, awaiting_approval,
    /// rolled_back, interrupted, completed …).
    public var outcome: String?
    public var mergeCommit: String?
    public var mergeRequest: Int?
    public let created: String
    public var finished: String?
    /// At an approval step: the request in the approval queue, the step to continue from, and
    /// what the steps so far produced (kept only while paused).
    public var approval: String?
    public var resumeAt: Int?
    public var context: JSONValue?
    /// Engine runs that ended at an approval step; the run continued on a branch forked from
    /// the last of them, so the last engine run holds all of the run's changes.
    public var earlier: [String]?
}

extension Workflow {
    static func workflowStates(_ project: String) -> String { "workflow-state/\(project)/" }
    static func workflowState(_ project: String, _ name: String) -> String { workflowStates(project) + name + ".json" }
    static func workflowRuns(_ project: String, _ name: String) -> String { "workflow-runs/\(project)/\(name)/" }
    static func workflowRun(_ project: String, _ name: String, _ id: String) -> String { workflowRuns(project, name) + id + ".json" }
    /// The runs in progress (claimed, not ended, not paused): what a server looks at to end the
    /// runs of a server that died, without reading every run record.
    static func workflowRunning(_ project: String, _ name: String, _ id: String) -> String {
        "workflow-running/\(project)/\(name)/\(id).json"
    }
    /// The paused runs, each waiting on its approval (or its expiry).
    static func workflowPaused(_ project: String, _ name: String, _ id: String) -> String {
        "workflow-paused/\(project)/\(name)/\(id).json"
    }
    /// Which workflow run made a merge commit on a project, for the depth of chains.
    static func workflowMerge(_ project: String, _ commit: String) -> String { "workflow-merges/\(project)/\(commit).json" }
}

/// What a workflow's merge commit was made by: the chain depth of the runs its commits fire.
struct WorkflowMerge: Sendable, Codable {
    let workflow: String
    let run: String
    let depth: Int
}

/// A paused run in the index the scheduler looks at each round.
struct PausedRun: Sendable, Codable {
    let approval: String
    /// When the approval lapses (ms since 1970, by the engine's clock).
    let expires: Int64
}
