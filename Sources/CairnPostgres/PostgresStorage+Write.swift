import CairnCore
@_spi(StoreWrites) import CairnStore
import Foundation
import Logging
import NIOCore
import PostgresNIO

extension PostgresStorage {
    @_spi(StoreWrites) public func apply(_ batch: WriteBatch) async throws {
        try await transaction { connection in try await self.write(batch, on: connection) }
    }

    /// Runs `body` in one transaction, committed before this returns. A transaction PostgreSQL
    /// aborted to break a deadlock or a serialization conflict changed nothing, so it is run
    /// again (a few times, after a short random pause); every other failure is the caller's.
    func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
            } catch {
                let inner = (error as? PostgresTransactionError)?.closureError ?? error
                if inner is RefCASFailure { throw inner }
                let state = Self.sqlState(error)
                if (state == "40001" || state == "40P01") && attempt < 6 {
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 << attempt))))
                    continue
                }
                throw Self.describe(error, location: location)
            }
        }
    }

    /// Writes a batch inside the caller's transaction, always in the same order (objects, the
    /// indexes, refs, audit; each sorted by key) so two servers' transactions queue behind each
    /// other rather than deadlock. Throws `RefCASFailure`, rolling everything back, on a lost race.
    func write(_ batch: WriteBatch, on connection: PostgresConnection) async throws {
        try await insertObjects(batch.objects, on: connection)
        for (project, entries) in Dictionary(grouping: batch.commitIndex, by: \.project).sorted(by: { $0.key < $1.key }) {
            let rows = entries.map(\.entry).sorted { $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }
            try await connection.query(
                """
                INSERT INTO commit_index (project, id, generation, parent, skip, time_ms)
                SELECT \(project), u.id, u.generation, NULLIF(u.parent, ''::BYTEA), NULLIF(u.skip, ''::BYTEA), u.time_ms
                FROM unnest(
                    \(rows.map(\.id.buffer)), \(rows.map { Int64($0.generation) }), \(rows.map { $0.parent?.buffer ?? ByteBuffer() }),
                    \(rows.map { $0.skip?.buffer ?? ByteBuffer() }), \(rows.map(\.timeMillis))
                ) AS u(id, generation, parent, skip, time_ms)
                ON CONFLICT DO NOTHING
                """,
                logger: logger
            )
        }
        for (project, entries) in Dictionary(grouping: batch.pathHistory, by: \.project).sorted(by: { $0.key < $1.key }) {
            let rows = entries.map(\.entry)
            try await connection.query(
                """
                INSERT INTO path_history (project, path, generation, commit_id, change, blob)
                SELECT \(project), u.path, u.generation, u.commit_id, u.change, NULLIF(u.blob, ''::BYTEA)
                FROM unnest(
                    \(rows.map(\.path)), \(rows.map { Int64($0.generation) }), \(rows.map(\.commit.buffer)), \(rows.map(\.change.rawValue)),
                    \(rows.map { $0.blob?.buffer ?? ByteBuffer() })
                ) AS u(path, generation, commit_id, change, blob)
                ON CONFLICT DO NOTHING
                """,
                logger: logger
            )
        }
        // Stable: several moves of one branch in a batch keep their order (each expects the last).
        let updates = batch.refUpdates.enumerated().sorted { a, b in
            (a.element.project, a.element.branch, a.offset) < (b.element.project, b.element.branch, b.offset)
        }.map(\.element)
        for u in updates { try await move(u, on: connection) }
        if !batch.audit.isEmpty { try await appendAudit(batch.audit, on: connection) }
        if !batch.runCalls.isEmpty { try await appendRunCalls(batch.runCalls, on: connection) }
    }

    /// A plain INSERT: a number the run already holds is an error, never an overwrite.
    private func appendRunCalls(_ records: [RunCallRecord], on connection: PostgresConnection) async throws {
        let rows = records.sorted { ($0.project, $0.run, $0.seq) < ($1.project, $1.run, $1.seq) }
        try await connection.query(
            """
            INSERT INTO run_call (project, run, seq, time_ms, body)
            SELECT * FROM unnest(
                \(rows.map(\.project)), \(rows.map(\.run)), \(rows.map(\.seq)), \(rows.map(\.timeMillis)),
                \(rows.map { ByteBuffer(bytes: $0.body) })
            )
            """,
            logger: logger
        )
    }

    private func insertObjects(
        _ objects: [(project: Int64, id: ObjectID, object: StoredObject)],
        on connection: PostgresConnection
    ) async throws {
        for (project, items) in Dictionary(grouping: objects, by: \.project).sorted(by: { $0.key < $1.key }) {
            var seen = Set<ObjectID>()
            let sorted = items.filter { seen.insert($0.id).inserted }.sorted { $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }
            // Bounded statements: a large import goes in several, each well under PostgreSQL's limits.
            var start = 0
            while start < sorted.count {
                var end = start
                var bytes = 0
                while end < sorted.count && end - start < 5000 && bytes < 16 << 20 {
                    bytes += sorted[end].object.data.count
                    end += 1
                }
                let chunk = sorted[start..<end]
                try await connection.query(
                    """
                    INSERT INTO object (project, id, kind, data)
                    SELECT \(project), u.id, u.kind, u.data
                    FROM unnest(
                        \(chunk.map(\.id.buffer)), \(chunk.map { Int16($0.object.kind.rawValue) }),
                        \(chunk.map { ByteBuffer(bytes: $0.object.data) })
                    ) AS u(id, kind, data)
                    ON CONFLICT DO NOTHING
                    """,
                    logger: logger
                )
                start = end
            }
        }
    }

    /// One compare-and-swap. The conditional statement is re-checked by PostgreSQL against the
    /// committed row if another transaction moved it meanwhile, so exactly one of two racing
    /// moves from the same head succeeds; the other finds no row and reports what it found.
    private func move(_ u: RefUpdate, on connection: PostgresConnection) async throws {
        let done: Bool
        switch (u.expected, u.new) {
        case (nil, let new?):
            done = try await !connection.query(
                "INSERT INTO ref (project, name, head) VALUES (\(u.project), \(u.branch), \(new.buffer)) ON CONFLICT DO NOTHING RETURNING 1",
                logger: logger
            ).collect().isEmpty
        case (let expected?, let new?):
            done = try await !connection.query(
                "UPDATE ref SET head = \(new.buffer) WHERE project = \(u.project) AND name = \(u.branch) AND head = \(expected.buffer) RETURNING 1",
                logger: logger
            ).collect().isEmpty
        case (let expected?, nil):
            done = try await !connection.query(
                "DELETE FROM ref WHERE project = \(u.project) AND name = \(u.branch) AND head = \(expected.buffer) RETURNING 1",
                logger: logger
            ).collect().isEmpty
        case (nil, nil):
            done = try await connection.query("SELECT 1 FROM ref WHERE project = \(u.project) AND name = \(u.branch)", logger: logger)
                .collect().isEmpty
        }
        if !done {
            let actual = try await connection.query(
                "SELECT head FROM ref WHERE project = \(u.project) AND name = \(u.branch)",
                logger: logger
            )
            .collect().first.flatMap { ObjectID(buffer: try $0.decode(ByteBuffer.self)) }
            throw RefCASFailure(project: u.project, branch: u.branch, expected: u.expected, actual: actual)
        }
        try await connection.query(
            """
            INSERT INTO reflog (project, name, old, new, time_ms, principal, reason)
            VALUES (\(u.project), \(u.branch), \(u.expected?.buffer), \(u.new?.buffer), \(u.timeMillis), \(u.principal), \(u.reason))
            """,
            logger: logger
        )
    }

    /// Chains each record onto its organization's last entry. Two servers may append to one
    /// organization at once, so the chain's tip is read under a lock on the organization's row:
    /// the second writer waits for the first to commit and then reads the new tip.
    private func appendAudit(_ records: [AuditAppend], on connection: PostgresConnection) async throws {
        for org in Set(records.map(\.organization)).sorted() {
            try await connection.query("SELECT 1 FROM organization WHERE id = \(org) FOR NO KEY UPDATE", logger: logger)
            let tip = try await connection.query("SELECT seq, hash FROM audit WHERE org = \(org) ORDER BY seq DESC LIMIT 1", logger: logger)
                .collect().first
            var (seq, previous) =
                try tip.map { row in
                    let (seq, hash) = try row.decode((Int64, ByteBuffer).self)
                    return (seq, ObjectID(buffer: hash) ?? AuditChain.genesis)
                } ?? (Int64(0), AuditChain.genesis)
            var rows: [(seq: Int64, record: AuditAppend, previous: ObjectID, hash: ObjectID)] = []
            for record in records where record.organization == org {
                seq += 1
                let hash = AuditChain.hash(previous: previous, seq: seq, body: record.body)
                rows.append((seq, record, previous, hash))
                previous = hash
            }
            try await connection.query(
                """
                INSERT INTO audit (org, seq, time_ms, actor, action, outcome, body, prev, hash)
                SELECT \(org), u.* FROM unnest(
                    \(rows.map(\.seq)), \(rows.map(\.record.timeMillis)), \(rows.map(\.record.actor)), \(rows.map(\.record.action)),
                    \(rows.map(\.record.outcome)), \(rows.map { ByteBuffer(bytes: $0.record.body) }), \(rows.map(\.previous.buffer)),
                    \(rows.map(\.hash.buffer))
                ) AS u(seq, time_ms, actor, action, outcome, body, prev, hash)
                """,
                logger: logger
            )
        }
    }
}

// The hot point reads, prepared once per connection: each looks one row up by project and key.

protocol ProjectPointRead: PostgresPreparedStatement {
    associatedtype Key: PostgresEncodable & Sendable
    var project: Int64 { get }
    var key: Key { get }
}

extension ProjectPointRead {
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(project)
        try bindings.append(key)
        return bindings
    }
}

struct ObjectRead: ProjectPointRead {
    static let sql = "SELECT kind, data FROM object WHERE project = $1 AND id = $2"
    let project: Int64
    let key: ByteBuffer
    func decodeRow(_ row: PostgresRow) throws -> (Int16, ByteBuffer) { try row.decode((Int16, ByteBuffer).self) }
}

struct HeadRead: ProjectPointRead {
    static let sql = "SELECT head FROM ref WHERE project = $1 AND name = $2"
    let project: Int64
    let key: String
    func decodeRow(_ row: PostgresRow) throws -> ByteBuffer { try row.decode(ByteBuffer.self) }
}

struct CommitIndexRead: ProjectPointRead {
    static let sql = "SELECT generation, parent, skip, time_ms FROM commit_index WHERE project = $1 AND id = $2"
    let project: Int64
    let key: ByteBuffer
    func decodeRow(_ row: PostgresRow) throws -> (Int64, ByteBuffer?, ByteBuffer?, Int64) {
        try row.decode((Int64, ByteBuffer?, ByteBuffer?, Int64).self)
    }
}
