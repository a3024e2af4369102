import CairnCore
import CairnSQLite
@_spi(StoreWrites) import CairnStore
import CairnTestSupport
import Foundation
import Testing

/// A fresh, empty store: a SQLite file in a temporary folder, or on the PostgreSQL pass (see
/// `TestBackend`) a schema of its own in the test cluster. Every test body runs on both.
final class TestStore: @unchecked Sendable {
    let directory: URL
    let storage: any Storage
    let repository: Repository

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        storage = try await TestBackend.openStore(in: directory)
        repository = Repository(storage: storage)
    }

    deinit {
        TestBackend.close(storage)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs SQL behind the store's back, in the dialect of the backend under test.
    func tamper(sqlite: String, postgres: String) async throws {
        try await TestBackend.tamper(storage, sqlite: sqlite, postgres: postgres)
    }

    func makeProject(_ name: String = "demo") async throws -> Project {
        let org = try await organization()
        _ = try await repository.createProject(name: name, organization: org.id, metadata: .test("create project"))
        return try await repository.project(name, organization: org.id)
    }

    func organization() async throws -> OrganizationRecord {
        if let org = try await storage.organization(named: "test") { return org }
        return try await repository.createOrganization(name: "test")
    }
}

extension CommitMetadata {
    static func test(_ message: String, author: String = "tester") -> CommitMetadata {
        CommitMetadata(author: author, message: message)
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
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
