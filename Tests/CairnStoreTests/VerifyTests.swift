import CairnCore
import CairnSQLite
import CairnStore
import Foundation
import GRDB
import Testing

@Suite struct VerifyTests {
    @Test func cleanStoreVerifies() async throws {
        let store = try TestStore()
        let p = try await store.makeProject()
        try await p.write("a.json", "{}".bytes, metadata: .test("a"))
        let report = try await p.verify()
        #expect(report.ok)
        #expect(report.commitsChecked == 2)
    }

    @Test func alteredByteIsNamed() async throws {
        let store = try TestStore()
        let p = try await store.makeProject()
        let out = try await p.write("a.json", #"{"owner":"city"}"#.bytes, metadata: .test("a"))
        let (_, blob, _) = try await p.readBytes("a.json")
        // Change one stored byte behind the store's back.
        let db = try DatabaseQueue(path: store.storage.path)
        try await db.write { db in
            try db.execute(sql: "UPDATE object SET data = CAST(REPLACE(CAST(data AS TEXT), 'city', 'evil') AS BLOB) WHERE id = ?", arguments: [Data(blob.bytes)])
        }
        let report = try await p.verify()
        #expect(!report.ok)
        #expect(report.problems.contains { $0.object == blob.hex && $0.problem.contains("does not hash") })
        // The commit itself is untouched; tampering with it is caught too.
        try await db.write { db in
            try db.execute(sql: "UPDATE object SET data = data || x'00' WHERE id = ?", arguments: [Data(out.head.bytes)])
        }
        let again = try await p.verify()
        #expect(again.problems.contains { $0.object == out.head.hex })
    }

    @Test func writerIsDurable() throws {
        let store = try TestStore()
        #expect(try store.storage.synchronousSetting() == 2, "synchronous=FULL")
    }
}
