import CairnCore
import CairnEngine
import CairnGovernance
import CairnStore
import Foundation
import Testing

/// Manual runs: templates between steps, the scope and the enabler's authority at every call,
/// retries, failure policies (rollback restores the target's tree exactly), inputs.
@Suite struct WorkflowRunTests {
    static let chain = """
        {"scope": {"role": "designer"},
         "inputs": {"date": {"type": "string", "required": true}, "factor": {"type": "integer", "default": 2}},
         "triggers": [{"kind": "manual"}],
         "steps": [
           {"id": "site", "kind": "Read", "arguments": {"path": "sites/a.json"}},
           {"id": "plan", "kind": "Write", "arguments": {"path": "plans/{{inputs.date}}.json",
             "content": "{\\"capacity\\": {{steps.site.value.capacity}}, \\"factor\\": {{inputs.factor}}}"}},
           {"id": "list", "kind": "Glob", "arguments": {"pattern": "plans/*.json"}},
           {"id": "note", "kind": "Write", "if": {"step": "list", "outcome": "succeeded"},
             "arguments": {"path": "notes/{{run.date}}.json", "content": "{\\"first\\": \\"{{steps.list.value.paths[0]}}\\"}"}},
           {"id": "never", "kind": "Delete", "if": {"step": "list", "outcome": "failed"}, "arguments": {"path": "sites/a.json"}}
         ]}
        """

    @Test("steps pass values on (a file's JSON, a glob's paths, inputs and defaults); a condition skips; the run merges into main")
    func templatesAndMerge() async throws {
        let f = try await WorkflowFixture()
        try await f.define("plan", Self.chain)
        let run = try await f.workflows.start(f.ada, project: "city", name: "plan", inputs: ["date": .string("2027-03-27")], wait: true)
        #expect(run.status == .succeeded && run.outcome == "merged", "\(run)")
        #expect(run.steps.map(\.outcome) == [.succeeded, .succeeded, .succeeded, .succeeded, .skipped])
        #expect(try await f.read("plans/2027-03-27.json") == #"{"capacity": 10, "factor": 2}"#)
        #expect(try await f.read("notes/\(run.created.prefix(10)).json") == #"{"first": "plans/2027-03-27.json"}"#)
        #expect(try await f.read("sites/a.json") != nil)
        // The engine run holds every call, made as the workflow for the person who enabled it.
        let engineRun = try await f.gateway.agentRun(f.ada, project: "city", id: try #require(run.run))
        #expect(engineRun.agent == "workflow:plan" && engineRun.onBehalfOf == "user:ada")
        #expect(engineRun.calls.map(\.tool) == ["Read", "Write", "Glob", "Write"])
        // Lineage leads from the value to the workflow, its run, its trigger and its step.
        let lineage = try await f.gateway.lineage(f.ada, project: "city", path: "plans/2027-03-27.json", pointer: "/capacity")
        #expect(lineage.workflow?.workflow == "plan" && lineage.workflow?.run == run.id && lineage.workflow?.step == "plan", "\(lineage)")
        #expect(lineage.workflow?.trigger.kind == "manual" && lineage.call?.tool == "Write")
        // Stored, listed, and shown the same.
        #expect(try await f.workflows.run(f.ada, project: "city", name: "plan", id: run.id) == run)
    }

    @Test("inputs: an unknown name, a missing required one and a wrong type are each named, and nothing runs")
    func inputsChecked() async throws {
        let f = try await WorkflowFixture()
        try await f.define("plan", Self.chain)
        do {
            _ = try await f.workflows.start(
                f.ada,
                project: "city",
                name: "plan",
                inputs: ["factor": .string("x"), "colour": .string("red")]
            )
            Issue.record("bad inputs were accepted")
        } catch let e as CairnError {
            #expect(e.code == .invalidArgument)
            #expect(Set(e.violations.map(\.pointer)) == ["/inputs/colour", "/inputs/date", "/inputs/factor"], "\(e.violations)")
        }
        #expect(try await f.allRuns("plan").isEmpty)
    }

    @Test("a step outside the scope is refused and recorded as denied; the rollback policy leaves main's tree exactly as before")
    func scopeAndRollback() async throws {
        let f = try await WorkflowFixture()
        try await f.define(
            "scoped",
            """
            {"scope": {"role": "designer", "path": "plans/**"}, "triggers": [{"kind": "manual"}], "onFailure": "rollback",
             "steps": [
               {"id": "ok", "kind": "Write", "arguments": {"path": "plans/p.json", "content": "{}"}},
               {"id": "outside", "kind": "Write", "arguments": {"path": "sites/b.json", "content": "{}"}}
             ]}
            """
        )
        let before = try await f.tree()
        let run = try await f.workflows.start(f.ada, project: "city", name: "scoped", inputs: [:], wait: true)
        #expect(run.status == .failed && run.outcome == "rolled_back", "\(run)")
        #expect(
            run.failure?.contains("step outside (Write) (call 2)") == true && run.failure?.contains("permission_denied") == true,
            "\(run)"
        )
        #expect(run.steps.map(\.outcome) == [.succeeded, .failed])
        #expect(try await f.tree() == before)
        let engineRun = try await f.gateway.agentRun(f.ada, project: "city", id: try #require(run.run))
        #expect(engineRun.calls.map(\.decision) == ["allowed", "denied"])
        #expect(try await f.read("plans/p.json") == nil)
    }

    @Test("a failing step is retried by its policy; keep leaves the branch with what the earlier steps did")
    func retriesAndKeep() async throws {
        let f = try await WorkflowFixture()
        try await f.define(
            "edit",
            """
            {"scope": {"role": "designer"}, "triggers": [{"kind": "manual"}], "onFailure": "keep",
             "steps": [
               {"id": "first", "kind": "Write", "arguments": {"path": "plans/k.json", "content": "{}"}},
               {"id": "edit", "kind": "Edit", "arguments": {"path": "sites/a.json", "old": "nope", "new": "x"},
                "retry": {"count": 2, "backoffSeconds": 0}}
             ]}
            """
        )
        let run = try await f.workflows.start(f.ada, project: "city", name: "edit", inputs: [:], wait: true)
        #expect(run.status == .failed && run.outcome == "interrupted", "\(run)")
        #expect(run.steps.last?.attempts == 3 && run.steps.last?.calls.count == 3, "\(run)")
        #expect(run.steps.last?.error?.contains("edit_no_match") == true)
        #expect(try await f.read("plans/k.json") == nil)
        #expect(try await f.read("plans/k.json", at: "agent-runs/\(try #require(run.run))") == "{}")
    }

    @Test("the enabler bounds the workflow: a scope wider than them is refused at enable; narrowing them binds the next run's calls")
    func enablerBounds() async throws {
        let f = try await WorkflowFixture()
        let op = Caller(principal: .localOperator, organization: f.org, reason: "setup")
        _ = try await f.gateway.access.putRole(op, Role(name: "configurer", authorities: AuthoritySet([.read, .configure])))
        _ = try await f.gateway.access.putMember(op, subject: "user:carl", role: "configurer")
        _ = try await f.gateway.access.putMember(op, subject: "user:bob", role: "admin")
        let definition = """
            {"scope": {"role": "designer"}, "triggers": [{"kind": "manual"}], "onFailure": "rollback",
             "steps": [{"id": "w", "kind": "Write", "arguments": {"path": "plans/b.json", "content": "{}"}}]}
            """
        _ = try await f.workflows.set(f.ada, project: "city", name: "bounded", definition: Array(definition.utf8))
        // Carl may configure but not write: he may not hand a workflow the designer role.
        do {
            _ = try await f.workflows.enable(WorkflowFixture.user("carl", f.org), project: "city", name: "bounded")
            Issue.record("a scope wider than the enabler was enabled")
        } catch let e as CairnError {
            #expect(e.code == .permissionDenied && e.message.contains("wider"), "\(e)")
        }
        let bob = WorkflowFixture.user("bob", f.org)
        _ = try await f.workflows.enable(bob, project: "city", name: "bounded")
        // Bob is made a viewer: the workflow's next call is refused on his account.
        _ = try await f.gateway.access.putMember(op, subject: "user:bob", role: "viewer")
        let run = try await f.workflows.start(f.ada, project: "city", name: "bounded", inputs: [:], wait: true)
        #expect(run.status == .failed && run.failure?.contains("permission_denied") == true, "\(run)")
        #expect(try await f.read("plans/b.json") == nil)
        // Disabled: a manual start is refused.
        _ = try await f.workflows.disable(f.ada, project: "city", name: "bounded")
        await #expect(throws: CairnError.self) {
            try await f.workflows.start(f.ada, project: "city", name: "bounded", inputs: [:])
        }
    }

    @Test("retention keeps the last N runs' records; their commits stay in history")
    func retention() async throws {
        let f = try await WorkflowFixture()
        try await f.define(
            "kept",
            """
            {"scope": {"role": "designer"}, "triggers": [{"kind": "manual"}], "retention": {"runs": 2},
             "steps": [{"id": "w", "kind": "Write", "arguments": {"path": "plans/{{run.id}}.json", "content": "{}"}}]}
            """
        )
        var ids: [String] = []
        for _ in 0..<4 { ids.append(try await f.workflows.start(f.ada, project: "city", name: "kept", inputs: [:], wait: true).id) }
        #expect(try await f.allRuns("kept").map(\.id) == Array(ids.suffix(2)))
        for id in ids { #expect(try await f.read("plans/\(id).json") == "{}") }
    }
}
