import CairnCore
@_spi(StoreWrites) import CairnStore
import Foundation
import GRDB

/// The embedded default backend: one SQLite file in WAL mode with `synchronous=FULL`.
///
/// A write is acknowledged only once its transaction is durable. Throughput under concurrency
/// comes from the store's group commit (many commits in one transaction), never from a weaker
/// sync setting. Readers run concurrently with the writer (WAL).
public final class SQLiteStorage: Storage {
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.maximumReaderCount = 8
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try db.execute(sql: "PRAGMA cache_size = -65536")  // 64 MiB page cache per connection
            // Memory-mapped reads skip a read(2) per page; writes still go through the WAL.
            try db.execute(sql: "PRAGMA mmap_size = 2147418112")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // GRDB picks synchronous=NORMAL for WAL; durability here requires FULL.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            let migrator = Self.migrator
            if try !pool.read(migrator.hasCompletedMigrations) { try migrator.migrate(pool) }
        } catch {
            if let damaged = Self.translate(error) as? CairnError {
                throw CairnError(damaged.code, "cannot open the store at \(path): \(damaged.message)", details: ["path": path])
            }
            throw CairnError(.storage, "cannot open the store at \(path): \(error)", details: ["path": path])
        }
    }

    /// The writer connection's `PRAGMA synchronous` (2 is FULL), for tests that guard durability.
    public func synchronousSetting() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE project (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        created_ms INTEGER NOT NULL);
                    CREATE TABLE object (
                        project INTEGER NOT NULL REFERENCES project(id),
                        id BLOB NOT NULL,
                        kind INTEGER NOT NULL,
                        data BLOB NOT NULL);
                    CREATE UNIQUE INDEX object_by_id ON object(project, id);
                    CREATE TABLE ref (
                        project INTEGER NOT NULL REFERENCES project(id),
                        name TEXT NOT NULL,
                        head BLOB NOT NULL,
                        PRIMARY KEY (project, name)) WITHOUT ROWID;
                    CREATE TABLE reflog (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        project INTEGER NOT NULL REFERENCES project(id),
                        name TEXT NOT NULL,
                        old BLOB,
                        new BLOB,
                        time_ms INTEGER NOT NULL,
                        principal TEXT NOT NULL,
                        reason TEXT NOT NULL);
                    CREATE INDEX reflog_at ON reflog(project, name, time_ms, seq);
                    CREATE TABLE commit_index (
                        project INTEGER NOT NULL REFERENCES project(id),
                        id BLOB NOT NULL,
                        generation INTEGER NOT NULL,
                        parent BLOB,
                        skip BLOB,
                        time_ms INTEGER NOT NULL,
                        PRIMARY KEY (project, id)) WITHOUT ROWID;
                    CREATE TABLE path_history (
                        project INTEGER NOT NULL REFERENCES project(id),
                        path TEXT NOT NULL,
                        generation INTEGER NOT NULL,
                        commit_id BLOB NOT NULL,
                        change TEXT NOT NULL,
                        blob BLOB,
                        PRIMARY KEY (project, path, generation, commit_id)) WITHOUT ROWID;
                    """
            )
        }
        // Tenancy and the audit log. Projects made before organizations existed move into an
        // organization named "default", so no data is lost on upgrade.
        m.registerMigration("v2-organizations-audit") { db in
            try db.execute(
                sql: """
                    CREATE TABLE organization (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        created_ms INTEGER NOT NULL);
                    INSERT INTO organization(id, name, created_ms)
                        SELECT 1, 'default', MIN(created_ms) FROM project HAVING COUNT(*) > 0;
                    CREATE TABLE project_v2 (
                        id INTEGER PRIMARY KEY,
                        org INTEGER NOT NULL REFERENCES organization(id),
                        name TEXT NOT NULL,
                        created_ms INTEGER NOT NULL,
                        UNIQUE (org, name));
                    INSERT INTO project_v2(id, org, name, created_ms) SELECT id, 1, name, created_ms FROM project;
                    DROP TABLE project;
                    ALTER TABLE project_v2 RENAME TO project;
                    CREATE TABLE audit (
                        org INTEGER NOT NULL REFERENCES organization(id),
                        seq INTEGER NOT NULL,
                        time_ms INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        body BLOB NOT NULL,
                        prev BLOB NOT NULL,
                        hash BLOB NOT NULL,
                        PRIMARY KEY (org, seq)) WITHOUT ROWID;
                    CREATE INDEX audit_by_actor ON audit(org, actor, seq);
                    CREATE INDEX audit_by_time ON audit(org, time_ms, seq);
                    """
            )
        }
        // Who made a branch and when: its latest creation entry, found without scanning its moves.
        m.registerMigration("v3-branch-creation") { db in
            try db.execute(sql: "CREATE INDEX reflog_created ON reflog(project, name, seq) WHERE old IS NULL")
        }
        // Leases (runs held by a live server): operational state beside the history.
        m.registerMigration("v4-leases") { db in
            try db.execute(
                sql: """
                    CREATE TABLE lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_ms INTEGER NOT NULL) WITHOUT ROWID;
                    CREATE INDEX lease_by_holder ON lease(holder);
                    """
            )
        }
        // Runs' call records: one row per call, appended with the call's commit or alone.
        m.registerMigration("v5-run-calls") { db in
            try db.execute(
                sql: """
                    CREATE TABLE run_call (
                        project INTEGER NOT NULL REFERENCES project(id),
                        run TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        time_ms INTEGER NOT NULL,
                        body BLOB NOT NULL,
                        PRIMARY KEY (project, run, seq)) WITHOUT ROWID;
                    """
            )
        }
        return m
    }

    /// A read transaction, with damage SQLite detects reported as `corrupt` (see `translate`).
    func reading<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.read(body) } catch { throw Self.translate(error) }
    }

    /// A write transaction, with damage SQLite detects reported as `corrupt`.
    func writing<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.write(body) } catch { throw Self.translate(error) }
    }

    /// A damaged file (a torn page, a truncated or overwritten database) is `corrupt`, which
    /// `cairn verify` and the API report as such; every other error passes through unchanged.
    static func translate(_ error: any Error) -> any Error {
        guard let e = error as? DatabaseError, e.resultCode == .SQLITE_CORRUPT || e.resultCode == .SQLITE_NOTADB else { return error }
        return CairnError(.corrupt, "the SQLite store is damaged (\(e.resultCode)); run `cairn verify` and restore from a backup")
    }

    /// A synchronous read on the calling thread, for single-statement reads too short to be worth
    /// a thread hop or a transaction (one SELECT is atomic on its own).
    private func readNow<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.unsafeRead(body) } catch { throw Self.translate(error) }
    }

    // MARK: Organizations and projects

    @_spi(StoreWrites) public func createOrganization(name: String, timeMillis: Millis) async throws -> OrganizationRecord {
        do {
            return try await writing { db in
                try db.execute(sql: "INSERT INTO organization(name, created_ms) VALUES (?, ?)", arguments: [name, timeMillis])
                return OrganizationRecord(id: db.lastInsertedRowID, name: name, createdMillis: timeMillis)
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw CairnError(.organizationExists, "an organization named '\(name)' already exists", details: ["organization": name])
        }
    }

    public func organization(named name: String) async throws -> OrganizationRecord? {
        try readNow { db in
            try Row.fetchOne(try db.cachedStatement(sql: "SELECT id, name, created_ms FROM organization WHERE name = ?"), arguments: [name])
                .map { OrganizationRecord(id: $0[0], name: $0[1], createdMillis: $0[2]) }
        }
    }

    public func organization(id: Int64) async throws -> OrganizationRecord? {
        try readNow { db in
            try Row.fetchOne(try db.cachedStatement(sql: "SELECT id, name, created_ms FROM organization WHERE id = ?"), arguments: [id])
                .map { OrganizationRecord(id: $0[0], name: $0[1], createdMillis: $0[2]) }
        }
    }

    public func organizations() async throws -> [OrganizationRecord] {
        try await reading { db in
            try Row.fetchAll(try db.cachedStatement(sql: "SELECT id, name, created_ms FROM organization ORDER BY name"))
                .map { OrganizationRecord(id: $0[0], name: $0[1], createdMillis: $0[2]) }
        }
    }

    @_spi(StoreWrites) public func createProject(
        organization: Int64,
        name: String,
        timeMillis: Millis,
        initial: @Sendable (Int64) -> WriteBatch
    ) async throws -> ProjectRecord {
        do {
            return try await writing { db in
                try db.execute(
                    sql: "INSERT INTO project(org, name, created_ms) VALUES (?, ?, ?)",
                    arguments: [organization, name, timeMillis]
                )
                let record = ProjectRecord(id: db.lastInsertedRowID, organization: organization, name: name, createdMillis: timeMillis)
                try Self.write(initial(record.id), in: db)
                return record
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw CairnError(.projectExists, "a project named '\(name)' already exists", details: ["project": name])
        }
    }

    public func project(organization: Int64, named name: String) async throws -> ProjectRecord? {
        try readNow { db in
            try Row.fetchOne(
                try db.cachedStatement(sql: "SELECT id, org, name, created_ms FROM project WHERE org = ? AND name = ?"),
                arguments: [organization, name]
            )
            .map { ProjectRecord(id: $0[0], organization: $0[1], name: $0[2], createdMillis: $0[3]) }
        }
    }

    public func projects(organization: Int64) async throws -> [ProjectRecord] {
        try await reading { db in
            try Row.fetchAll(
                try db.cachedStatement(sql: "SELECT id, org, name, created_ms FROM project WHERE org = ? ORDER BY name"),
                arguments: [organization]
            )
            .map { ProjectRecord(id: $0[0], organization: $0[1], name: $0[2], createdMillis: $0[3]) }
        }
    }

    // MARK: Objects

    public func object(_ id: ObjectID, project: Int64) async throws -> StoredObject? {
        // A point read takes microseconds: doing it on the calling thread (GRDB's synchronous
        // read) avoids two thread hops per object, which dominate tree walks otherwise.
        try readNow { db in
            try Row.fetchOne(
                try db.cachedStatement(sql: "SELECT kind, data FROM object WHERE project = ? AND id = ?"),
                arguments: [project, id.data]
            ).flatMap(Self.storedObject)
        }
    }

    public func objects(_ ids: [ObjectID], project: Int64) async throws -> [ObjectID: StoredObject] {
        guard !ids.isEmpty else { return [:] }
        return try await reading { db in
            var out: [ObjectID: StoredObject] = [:]
            out.reserveCapacity(ids.count)
            // One statement per 500 ids: far fewer round trips than a lookup per id.
            for start in stride(from: 0, to: ids.count, by: 500) {
                let slice = ids[start..<min(ids.count, start + 500)]
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ",")
                var arguments: StatementArguments = [project]
                for id in slice { arguments += [id.data] }
                let rows = try Row.fetchCursor(
                    db,
                    sql: "SELECT id, kind, data FROM object WHERE project = ? AND id IN (\(marks))",
                    arguments: arguments
                )
                while let row = try rows.next() {
                    guard let id = try row.withUnsafeData(atIndex: 0, { $0.flatMap { ObjectID(bytes: $0) } }),
                        let kind = ObjectKind(rawValue: UInt8(truncatingIfNeeded: row[1] as Int64))
                    else { continue }
                    out[id] = StoredObject(kind: kind, data: try row.withUnsafeData(atIndex: 2) { $0.map { [UInt8]($0) } ?? [] })
                }
            }
            return out
        }
    }

    public func objectPage(project: Int64, after: ObjectID?, limit: Int) async throws -> [(ObjectID, StoredObject)] {
        try await reading { db in
            let rows = try Row.fetchAll(
                try db.cachedStatement(sql: "SELECT id, kind, data FROM object WHERE project = ? AND id > ? ORDER BY id LIMIT ?"),
                arguments: [project, after?.data ?? Data(), limit]
            )
            return rows.compactMap { row -> (ObjectID, StoredObject)? in
                guard let id = ObjectID(bytes: (row[0] as Data)) else { return nil }
                let kind = ObjectKind(rawValue: UInt8(truncatingIfNeeded: row[1] as Int64)) ?? .blob
                return (id, StoredObject(kind: kind, data: [UInt8](row[2] as Data)))
            }
        }
    }

    private static func storedObject(_ row: Row) -> StoredObject? {
        guard let kind = ObjectKind(rawValue: UInt8(truncatingIfNeeded: row[0] as Int64)) else { return nil }
        return StoredObject(kind: kind, data: [UInt8](row[1] as Data))
    }

    // MARK: Refs

    public func head(project: Int64, branch: String) async throws -> ObjectID? {
        try readNow { db in
            try Data.fetchOne(
                try db.cachedStatement(sql: "SELECT head FROM ref WHERE project = ? AND name = ?"),
                arguments: [project, branch]
            )
            .flatMap { ObjectID(bytes: $0) }
        }
    }

    public func branches(project: Int64) async throws -> [(name: String, head: ObjectID)] {
        try await reading { db in
            try Row.fetchAll(
                try db.cachedStatement(sql: "SELECT name, head FROM ref WHERE project = ? ORDER BY name"),
                arguments: [project]
            )
            .compactMap { row in ObjectID(bytes: row[1] as Data).map { (row[0], $0) } }
        }
    }

    public func refLogEntry(project: Int64, branch: String, atOrBefore timeMillis: Millis) async throws -> RefLogEntry? {
        try readNow { db in
            try Row.fetchOne(
                try db.cachedStatement(
                    sql: """
                        SELECT seq, name, old, new, time_ms, principal, reason FROM reflog
                        WHERE project = ? AND name = ? AND time_ms <= ? ORDER BY time_ms DESC, seq DESC LIMIT 1
                        """
                ),
                arguments: [project, branch, timeMillis]
            ).map(Self.refLogEntry)
        }
    }

    public func refLog(project: Int64, branch: String, beforeSeq: Int64?, limit: Int) async throws -> [RefLogEntry] {
        try await reading { db in
            try Row.fetchAll(
                try db.cachedStatement(
                    sql: """
                        SELECT seq, name, old, new, time_ms, principal, reason FROM reflog
                        WHERE project = ? AND name = ? AND seq < ? ORDER BY seq DESC LIMIT ?
                        """
                ),
                arguments: [project, branch, beforeSeq ?? Int64.max, min(limit, Int(Int32.max))]
            ).map(Self.refLogEntry)
        }
    }

    public func refCreation(project: Int64, branch: String) async throws -> RefLogEntry? {
        try readNow { db in
            try Row.fetchOne(
                try db.cachedStatement(
                    sql: """
                        SELECT seq, name, old, new, time_ms, principal, reason FROM reflog INDEXED BY reflog_created
                        WHERE project = ? AND name = ? AND old IS NULL ORDER BY seq DESC LIMIT 1
                        """
                ),
                arguments: [project, branch]
            ).map(Self.refLogEntry)
        }
    }

    private static func refLogEntry(_ row: Row) -> RefLogEntry {
        RefLogEntry(
            seq: row[0],
            branch: row[1],
            old: (row[2] as Data?).flatMap { ObjectID(bytes: $0) },
            new: (row[3] as Data?).flatMap { ObjectID(bytes: $0) },
            timeMillis: row[4],
            principal: row[5],
            reason: row[6]
        )
    }

    // MARK: Indexes

    public func commitIndex(project: Int64, id: ObjectID) async throws -> CommitIndexEntry? {
        try readNow { db in
            try Row.fetchOne(
                try db.cachedStatement(sql: "SELECT generation, parent, skip, time_ms FROM commit_index WHERE project = ? AND id = ?"),
                arguments: [project, id.data]
            ).map { row in
                CommitIndexEntry(
                    id: id,
                    generation: row[0],
                    parent: (row[1] as Data?).flatMap { ObjectID(bytes: $0) },
                    skip: (row[2] as Data?).flatMap { ObjectID(bytes: $0) },
                    timeMillis: row[3]
                )
            }
        }
    }

    public func commitIDs(project: Int64, from: [UInt8], through: [UInt8], limit: Int) async throws -> [ObjectID] {
        try await reading { db in
            try Data.fetchAll(
                try db.cachedStatement(sql: "SELECT id FROM commit_index WHERE project = ? AND id BETWEEN ? AND ? ORDER BY id LIMIT ?"),
                arguments: [project, Data(from), Data(through), limit]
            ).compactMap { ObjectID(bytes: $0) }
        }
    }

    public func pathHistory(
        project: Int64,
        path: String,
        before: (generation: Int, commit: ObjectID)?,
        limit: Int
    ) async throws -> [PathHistoryEntry] {
        try await reading { db in
            let rows: [Row]
            if let before {
                rows = try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT generation, commit_id, change, blob FROM path_history
                            WHERE project = ? AND path = ? AND (generation < ? OR (generation = ? AND commit_id < ?))
                            ORDER BY generation DESC, commit_id DESC LIMIT ?
                            """
                    ),
                    arguments: [project, path, before.generation, before.generation, before.commit.data, limit]
                )
            } else {
                rows = try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT generation, commit_id, change, blob FROM path_history
                            WHERE project = ? AND path = ? ORDER BY generation DESC, commit_id DESC LIMIT ?
                            """
                    ),
                    arguments: [project, path, limit]
                )
            }
            return rows.compactMap { row in
                guard let commit = ObjectID(bytes: row[1] as Data), let change = ChangeKind(rawValue: row[2]) else { return nil }
                return PathHistoryEntry(
                    path: path,
                    generation: row[0],
                    commit: commit,
                    change: change,
                    blob: (row[3] as Data?).flatMap { ObjectID(bytes: $0) }
                )
            }
        }
    }

    // MARK: Writing

    @_spi(StoreWrites) public func apply(_ batch: WriteBatch) async throws {
        try await writing { db in try Self.write(batch, in: db) }
    }

    /// Writes a batch inside the caller's transaction; throws `RefCASFailure` (rolling it back) on a lost race.
    private static func write(_ batch: WriteBatch, in db: Database) throws {
        let insertObject = try db.cachedStatement(sql: "INSERT OR IGNORE INTO object(project, id, kind, data) VALUES (?, ?, ?, ?)")
        for item in batch.objects {
            try insertObject.execute(arguments: [item.project, item.id.data, Int64(item.object.kind.rawValue), Data(item.object.data)])
        }
        let insertIndex = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO commit_index(project, id, generation, parent, skip, time_ms) VALUES (?, ?, ?, ?, ?, ?)"
        )
        for (project, e) in batch.commitIndex {
            try insertIndex.execute(arguments: [project, e.id.data, e.generation, e.parent?.data, e.skip?.data, e.timeMillis])
        }
        let insertPath = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO path_history(project, path, generation, commit_id, change, blob) VALUES (?, ?, ?, ?, ?, ?)"
        )
        for (project, e) in batch.pathHistory {
            try insertPath.execute(arguments: [project, e.path, e.generation, e.commit.data, e.change.rawValue, e.blob?.data])
        }
        let readHead = try db.cachedStatement(sql: "SELECT head FROM ref WHERE project = ? AND name = ?")
        let insertLog = try db.cachedStatement(
            sql: "INSERT INTO reflog(project, name, old, new, time_ms, principal, reason) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        for u in batch.refUpdates {
            let actual = try Data.fetchOne(readHead, arguments: [u.project, u.branch]).flatMap { ObjectID(bytes: $0) }
            guard actual == u.expected else {
                throw RefCASFailure(project: u.project, branch: u.branch, expected: u.expected, actual: actual)
            }
            if let new = u.new {
                try db.cachedStatement(
                    sql:
                        "INSERT INTO ref(project, name, head) VALUES (?, ?, ?) ON CONFLICT(project, name) DO UPDATE SET head = "
                        + "excluded.head"
                ).execute(arguments: [u.project, u.branch, new.data])
            } else {
                try db.cachedStatement(sql: "DELETE FROM ref WHERE project = ? AND name = ?").execute(arguments: [u.project, u.branch])
            }
            try insertLog.execute(arguments: [u.project, u.branch, u.expected?.data, u.new?.data, u.timeMillis, u.principal, u.reason])
        }
        if !batch.audit.isEmpty { try appendAudit(batch.audit, in: db) }
        if !batch.runCalls.isEmpty {
            // A plain INSERT: a number the run already holds is an error, never an overwrite.
            let insert = try db.cachedStatement(sql: "INSERT INTO run_call(project, run, seq, time_ms, body) VALUES (?, ?, ?, ?, ?)")
            for r in batch.runCalls { try insert.execute(arguments: [r.project, r.run, r.seq, r.timeMillis, Data(r.body)]) }
        }
    }

    /// Chains each record onto its organization's last entry, inside the caller's transaction:
    /// SQLite's single writer makes the read of the chain's tip and the append one atomic step.
    private static func appendAudit(_ records: [AuditAppend], in db: Database) throws {
        let tip = try db.cachedStatement(sql: "SELECT seq, hash FROM audit WHERE org = ? ORDER BY seq DESC LIMIT 1")
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO audit(org, seq, time_ms, actor, action, outcome, body, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        var tips: [Int64: (Int64, ObjectID)] = [:]
        for r in records {
            var (seq, previous) =
                try tips[r.organization]
                ?? Row.fetchOne(tip, arguments: [r.organization]).map { row in
                    (row[0] as Int64, ObjectID(bytes: row[1] as Data) ?? AuditChain.genesis)
                } ?? (0, AuditChain.genesis)
            seq += 1
            let hash = AuditChain.hash(previous: previous, seq: seq, body: r.body)
            try insert.execute(arguments: [
                r.organization, seq, r.timeMillis, r.actor, r.action, r.outcome, Data(r.body), previous.data, hash.data,
            ])
            previous = hash
            tips[r.organization] = (seq, previous)
        }
    }

    public func auditEntries(organization: Int64, afterSeq: Int64, limit: Int, filter: AuditFilter) async throws -> [AuditEntry] {
        try await reading { db in
            var sql = "SELECT seq, time_ms, actor, action, outcome, body, prev, hash FROM audit WHERE org = ? AND seq > ?"
            var arguments: StatementArguments = [organization, afterSeq]
            if let actor = filter.actor {
                sql += " AND actor = ?"
                arguments += [actor]
            }
            if let action = filter.action {
                sql += " AND action = ?"
                arguments += [action]
            }
            if let outcome = filter.outcome {
                sql += " AND outcome = ?"
                arguments += [outcome]
            }
            if let since = filter.sinceMillis {
                sql += " AND time_ms >= ?"
                arguments += [since]
            }
            if let until = filter.untilMillis {
                sql += " AND time_ms < ?"
                arguments += [until]
            }
            sql += " ORDER BY seq LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(try db.cachedStatement(sql: sql), arguments: arguments).map { row in
                AuditEntry(
                    seq: row[0],
                    timeMillis: row[1],
                    actor: row[2],
                    action: row[3],
                    outcome: row[4],
                    body: [UInt8](row[5] as Data),
                    previousHash: ObjectID(bytes: row[6] as Data) ?? AuditChain.genesis,
                    hash: ObjectID(bytes: row[7] as Data) ?? AuditChain.genesis
                )
            }
        }
    }

    public func runCalls(project: Int64, run: String, afterSeq: Int64, limit: Int) async throws -> [RunCallRecord] {
        try await reading { db in
            try Row.fetchAll(
                try db.cachedStatement(
                    sql: "SELECT seq, time_ms, body FROM run_call WHERE project = ? AND run = ? AND seq > ? ORDER BY seq LIMIT ?"
                ),
                arguments: [project, run, afterSeq, limit]
            ).map { row in
                RunCallRecord(project: project, run: run, seq: row[0], timeMillis: row[1], body: [UInt8](row[2] as Data))
            }
        }
    }

    public func storageBytes() async throws -> Int64 {
        let fm = FileManager.default
        var total: Int64 = 0
        for suffix in ["", "-wal"] {
            if let size = (try? fm.attributesOfItem(atPath: path + suffix))?[.size] as? NSNumber { total += size.int64Value }
        }
        return total
    }

    /// Moves the WAL into the main file and truncates it, so file sizes measure stored bytes.
    public func checkpoint() throws {
        try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    /// Bytes of object payload stored in a project: the logical size, independent of page slack.
    public func objectPayloadBytes(project: Int64) async throws -> Int64 {
        try await reading { db in
            try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(LENGTH(data)), 0) FROM object WHERE project = ?", arguments: [project]) ?? 0
        }
    }
}

extension ObjectID {
    var data: Data {
        withUnsafeBytes(of: (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)) { Data($0) }
    }

    /// From a 32-byte BLOB column; nil for any other length.
    init?(bytes data: Data) {
        guard data.count == 32 else { return nil }
        let w = data.withUnsafeBytes { raw in
            (0..<4).map { UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        }
        self.init(w0: w[0], w1: w[1], w2: w[2], w3: w[3])
    }
}
