import CairnCore
import CairnGovernance
import CairnSQLite
import CairnStore
import Foundation
import Testing

/// A store in a temporary folder with a Gateway, organizations and callers for tests.
final class GovernanceFixture: @unchecked Sendable {
    let directory: URL
    let storePath: String
    let storage: SQLiteStorage
    let repository: Repository
    let gateway: Gateway

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-gov-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        storePath = directory.appendingPathComponent("store.sqlite").path
        storage = try SQLiteStorage(path: storePath)
        repository = Repository(storage: storage)
        gateway = Gateway(repository: repository, limits: GatewayLimits(requestsPerSecond: 0))
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func organization(_ name: String) async throws -> OrganizationRecord {
        try await Tenancy.ensure(name, repository: repository).0
    }

    func operatorCaller(_ org: OrganizationRecord) -> Caller {
        Caller(principal: .localOperator, organization: org, reason: "test setup")
    }

    func user(_ id: String, in org: OrganizationRecord, groups: [String] = []) -> Caller {
        Caller(principal: Principal(subject: "user:\(id)", kind: .user, groups: groups, credential: "test"), organization: org, reason: "test")
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
