import CairnCore
import CairnEngine
import CairnGovernance
import CairnStore
import CairnTestSupport
import Foundation
import Testing

/// A fresh store (SQLite, or a schema of its own on the PostgreSQL pass) with an organization,
/// a project `city` whose `main` takes runs' merges directly, an admin (`user:ada`), and the
/// workflow engine on a clock the test moves.
final class WorkflowFixture: @unchecked Sendable {
    let directory: URL
    let storage: any Storage
    let gateway: Gateway
    let engine: Engine
    let clock: ManualWorkflowClock
    let workflows: Workflows
    let scheduler: WorkflowScheduler
    let org: OrganizationRecord
    let ada: Caller

    init(start: String = "2027-03-27T12:00:00Z") async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-wf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        storage = try await TestBackend.openStore(in: directory)
        gateway = Gateway(repository: Repository(storage: storage), limits: GatewayLimits(requestsPerSecond: 0))
        engine = Engine(gateway: gateway)
        clock = ManualWorkflowClock(try #require(Self.date(start)))
        workflows = Workflows(engine: engine, clock: clock)
        scheduler = WorkflowScheduler(workflows: workflows)
        org = try await Tenancy.ensure("acme", repository: gateway.repository).0
        let op = Caller(principal: .localOperator, organization: org, reason: "test setup")
        _ = try await gateway.access.putMember(op, subject: "user:ada", role: "admin")
        ada = Self.user("ada", org)
        _ = try await gateway.createProject(ada, name: "city")
        try await write(".cairn/protection.json", #"{"branches": {}}"#)
        try await write("sites/a.json", #"{"capacity": 10}"#)
    }

    deinit {
        TestBackend.close(storage)
        try? FileManager.default.removeItem(at: directory)
    }

    static func user(_ id: String, _ org: OrganizationRecord) -> Caller {
        Caller(principal: Principal(subject: "user:\(id)", kind: .user, credential: "test"), organization: org, reason: "test")
    }

    static func date(_ s: String) -> Date? { Clock.parseRFC3339(s).map { Date(timeIntervalSince1970: Double($0) / 1000) } }

    func write(_ path: String, _ content: String) async throws {
        try await gateway.write(ada, project: "city", path: path, content: Array(content.utf8))
    }

    /// Defines and enables a workflow (as `enabler`, Ada by default).
    @discardableResult
    func define(_ name: String, _ definition: String, enabler: Caller? = nil) async throws -> WorkflowState {
        _ = try await workflows.set(ada, project: "city", name: name, definition: Array(definition.utf8))
        return try await workflows.enable(enabler ?? ada, project: "city", name: name)
    }

    /// Waits until the run is over (not fired, not running).
    func settled(_ name: String, _ id: String) async throws -> WorkflowRun {
        for _ in 0..<2000 {
            let r = try await workflows.run(ada, project: "city", name: name, id: id)
            if r.status != .fired && r.status != .running && r.finished != nil { return r }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw CairnError(.timeout, "run \(id) did not end")
    }

    func allRuns(_ name: String) async throws -> [WorkflowRun] {
        var out: [WorkflowRun] = []
        var cursor: String?
        repeat {
            let page = try await workflows.runs(ada, project: "city", name: name, limit: 500, cursor: cursor)
            out += page.runs
            cursor = page.next
        } while cursor != nil
        return out
    }

    func tree(_ branch: String = "main") async throws -> String {
        try await gateway.history.show(ada, project: "city", ref: branch).commit.tree.hex
    }

    func read(_ path: String, at ref: String = "main") async throws -> String? {
        do {
            return String(decoding: try await gateway.readBytes(ada, project: "city", path: path, at: ref).2, as: UTF8.self)
        } catch let e as CairnError where e.code == .notFound {
            return nil
        }
    }
}
