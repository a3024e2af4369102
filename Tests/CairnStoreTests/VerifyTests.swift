import CairnCore
import CairnPostgres
import CairnSQLite
@_spi(StoreWrites) import CairnStore
import Foundation
import GRDB
import Testing

@Suite struct VerifyTests {
    @Test func cleanStoreVerifies() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        try await p.write("a.json", "{}".bytes, metadata: .test("a"))
        let report = try await p.verify()
        #expect(report.ok)
        #expect(report.commitsChecked == 2)
    }

    @Test func alteredByteIsNamed() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        let out = try await p.write("a.json", #"{"owner":"city"}"#.bytes, metadata: .test("a"))
        let (_, blob, _) = try await p.readBytes("a.json")
        // Change one stored byte behind the store's back.
        try await store.tamper(
            sqlite:
                "UPDATE object SET data = CAST(REPLACE(CAST(data AS TEXT), 'city', 'evil') AS BLOB) WHERE hex(id) = upper('\(blob.hex)')",
            postgres:
                "UPDATE object SET data = convert_to(replace(convert_from(data, 'UTF8'), 'city', 'evil'), 'UTF8') WHERE id = '\\x\(blob.hex)'::bytea"
        )
        let report = try await p.verify()
        #expect(!report.ok)
        #expect(report.problems.contains { $0.object == blob.hex && $0.problem.contains("does not hash") })
        // The commit itself is untouched; tampering with it is caught too.
        try await store.tamper(
            sqlite: "UPDATE object SET data = data || x'00' WHERE hex(id) = upper('\(out.head.hex)')",
            postgres: "UPDATE object SET data = data || '\\x00'::bytea WHERE id = '\\x\(out.head.hex)'::bytea"
        )
        let again = try await p.verify()
        #expect(again.problems.contains { $0.object == out.head.hex })
    }

    @Test func writerIsDurable() async throws {
        let store = try await TestStore()
        if let sqlite = store.storage as? SQLiteStorage {
            #expect(try sqlite.synchronousSetting() == 2, "synchronous=FULL")
        } else if let pg = store.storage as? PostgresStorage {
            #expect(try await pg.synchronousCommit() == "on", "synchronous_commit=on")
        } else {
            Issue.record("a backend this test does not know")
        }
    }
}
