import CairnCore
import CairnEngine
import CairnGovernance
import CairnStore
import CairnTestSupport
import Foundation
import Testing

/// The two workflows shipped in `examples/workflows/`, on their example datasets and the
/// Helsinki road network: the morning crew replan (cron, Solve, Write, approval, merge) and the
/// cabinet snapper (path watch, Run snap with provenance).
@Suite struct WorkflowExampleTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let examples = checkout.appendingPathComponent("examples")
    /// `../shared/data` beside the checkout: the Helsinki road network.
    static let sharedData = checkout.deletingLastPathComponent().appendingPathComponent("shared/data")

    /// The road network and an example's data on `city`'s main, and the example workflow defined and enabled.
    static func load(_ f: WorkflowFixture, data: String, workflow: String) async throws {
        let roads = try Data(contentsOf: sharedData.appendingPathComponent("helsinki-roads.geojson"))
        let changes = try GeoJSONImport.prepare(data: Array(roads), template: try PathTemplate("roads/{@id}.json"))
        try await f.gateway.commit(f.ada, project: "city", changes: changes)
        struct Apply: Decodable {
            struct Change: Decodable {
                let op: String
                let path: String
                let content: String?
            }
            let changes: [Change]
        }
        let apply = try JSONDecoder().decode(Apply.self, from: Data(contentsOf: examples.appendingPathComponent("\(data)/data.json")))
        try await f.gateway.commit(
            f.ada,
            project: "city",
            changes: apply.changes.map { .write(path: $0.path, content: Array(($0.content ?? "").utf8)) }
        )
        let definition = try Data(contentsOf: examples.appendingPathComponent("workflows/\(workflow).json"))
        _ = try await f.workflows.set(f.ada, project: "city", name: workflow, definition: Array(definition))
        _ = try await f.workflows.enable(f.ada, project: "city", name: workflow)
    }

    @Test("the morning crew replan: fired at 06:00 Helsinki, plans every order on the roads, waits for a dispatcher, then publishes")
    func crewReplan() async throws {
        let f = try await WorkflowFixture(start: "2027-03-27T03:59:00Z")
        try await Self.load(f, data: "crew", workflow: "crew-replan")
        f.clock.set(try #require(WorkflowFixture.date("2027-03-27T04:00:01Z")))
        let fired = await f.scheduler.tick().fired
        #expect(fired.map(\.trigger.scheduledFor) == ["2027-03-27T04:00:00.000Z"])
        let id = try #require(fired.first?.id)
        let paused = try await WorkflowApprovalTests.paused(f, "crew-replan", id)
        let rita = try await WorkflowApprovalTests.reviewer(f)
        let request = try await f.gateway.review.approval(rita, id: try #require(paused.approval))
        #expect(
            request.summary.hasPrefix("Publish the crew routes for 2027-03-27 (") && request.summary.contains("objective"),
            "\(request.summary)"
        )
        #expect(try await f.read("routes/2027-03-27.json") == nil)
        _ = try await f.gateway.review.decideApproval(rita, id: request.id, approve: true, rationale: "vans are ready")
        _ = await f.scheduler.tick()
        let done = try await f.settled("crew-replan", id)
        #expect(done.status == .succeeded && done.outcome == "merged", "\(done)")
        let planText = try #require(try await f.read("routes/2027-03-27.json"))
        let plan = try #require(JSONValue.parse(Array(planText.utf8)))
        guard case .object(let o) = plan, case .object(let routes)? = o["routes"], case .array(let vans)? = routes["routes"] else {
            Issue.record("no routes in the plan: \(plan.text.prefix(300))")
            return
        }
        var stops: [String] = []
        for case .object(let van) in vans {
            if case .array(let visits)? = van["visits"] {
                for case .object(let v) in visits { if case .string(let s)? = v["stop"] { stops.append(s) } }
            }
        }
        #expect(stops.count == 12 && Set(stops).count == 12 && stops.allSatisfy { $0.hasPrefix("crew/orders/") }, "\(stops)")
    }

    @Test("the cabinet snapper: a new cabinet fires it (debounced), every cabinet's road snap is written with its provenance")
    func cabinetSnapper() async throws {
        let f = try await WorkflowFixture()
        try await Self.load(f, data: "fiber", workflow: "cabinet-snapper")
        try await f.write(
            "fiber/cabinets/99.json",
            #"{"type":"Feature","geometry":{"type":"Point","coordinates":[24.9412,60.1689]},"properties":{"name":"CAB-99","olt":"fiber/olt/1.json","status":"planned"}}"#
        )
        WorkflowTriggerTests.at(f, 1)
        #expect(await f.scheduler.tick().fired.isEmpty)
        WorkflowTriggerTests.at(f, 12)
        let fired = await f.scheduler.tick().fired
        #expect(fired.count == 1 && fired.first?.trigger.paths == ["fiber/cabinets/99.json"])
        let done = try await f.settled("cabinet-snapper", try #require(fired.first?.id))
        #expect(done.status == .succeeded && done.outcome == "merged", "\(done)")
        let writtenText = try #require(try await f.read("fiber/snapped/cabinets.json"))
        let written = try #require(JSONValue.parse(Array(writtenText.utf8)))
        guard case .object(let o) = written, case .array(let inputs)? = o["inputs"], case .array(let result)? = o["result"] else {
            Issue.record("not a result with provenance: \(written.text.prefix(300))")
            return
        }
        let paths = inputs.compactMap { v -> String? in if case .object(let i) = v, case .string(let p)? = i["path"] { p } else { nil } }
        #expect(paths.contains("fiber/cabinets/99.json"), "\(paths)")
        #expect(result.count == paths.filter { $0.hasPrefix("fiber/cabinets/") }.count && result.count > 1)
        // Its own merge wrote under fiber/ but not under fiber/cabinets/: nothing fires again.
        WorkflowTriggerTests.at(f, 40)
        #expect(await f.scheduler.tick().fired.isEmpty)
    }
}
