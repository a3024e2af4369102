import CairnCore
import CairnGovernance
import CairnSQLite
import CairnStore
import CairnTestSupport
import Foundation
import Testing

/// A fresh store (SQLite, or a schema of its own on the PostgreSQL pass; see `TestBackend`)
/// with a Gateway, organizations and callers for tests.
final class GovernanceFixture: @unchecked Sendable {
    let directory: URL
    let storage: any Storage
    let repository: Repository
    let gateway: Gateway

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-gov-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        storage = try await TestBackend.openStore(in: directory)
        repository = Repository(storage: storage)
        gateway = Gateway(repository: repository, limits: GatewayLimits(requestsPerSecond: 0))
    }

    deinit {
        TestBackend.close(storage)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs SQL behind the store's back, in the dialect of the backend under test.
    func tamper(sqlite: String, postgres: String) async throws {
        try await TestBackend.tamper(storage, sqlite: sqlite, postgres: postgres)
    }

    /// Whether any stored cell of any table holds `needle`: the whole store, on either backend.
    func storeContains(_ needle: [UInt8]) async throws -> Bool {
        var found = false
        for table in StoreTable.allCases where !found {
            try await StoreCopy.forEachPage(of: table, in: storage) { page in
                for cell in page.joined() {
                    let bytes: [UInt8] =
                        switch cell {
                        case .bytes(let b): b
                        case .text(let t): Array(t.utf8)
                        default: []
                        }
                    if Data(bytes).range(of: Data(needle)) != nil { found = true }
                }
            }
        }
        return found
    }

    func organization(_ name: String) async throws -> OrganizationRecord {
        try await Tenancy.ensure(name, repository: repository).0
    }

    func operatorCaller(_ org: OrganizationRecord) -> Caller {
        Caller(principal: .localOperator, organization: org, reason: "test setup")
    }

    func user(_ id: String, in org: OrganizationRecord, groups: [String] = []) -> Caller {
        Caller(
            principal: Principal(subject: "user:\(id)", kind: .user, groups: groups, credential: "test"),
            organization: org,
            reason: "test"
        )
    }

    /// Every branch head of every project of the organization, to prove nothing moved.
    func heads(_ org: OrganizationRecord) async throws -> [String: String] {
        var out: [String: String] = [:]
        for p in try await repository.projects(organization: org.id) {
            for b in try await storage.branches(project: p.id) { out["\(p.name)/\(b.name)"] = b.head.hex }
        }
        return out
    }

    func audit(_ org: OrganizationRecord) async throws -> [AuditItem] {
        try await storage.auditEntries(organization: org.id, afterSeq: 0, limit: 1_000_000, filter: AuditFilter()).compactMap(AuditLog.item)
    }
}

/// Expects `body` to throw a `CairnError` with `code`.
func expectError<T>(_ code: CairnError.Code, _ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation) async {
    do {
        _ = try await body()
        Issue.record("expected \(code.rawValue), but it succeeded", sourceLocation: sourceLocation)
    } catch let error as CairnError {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code.rawValue), got \(error)", sourceLocation: sourceLocation)
    }
}
