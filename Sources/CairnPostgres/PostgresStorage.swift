import CairnCore
@_spi(StoreWrites) import CairnStore
import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// The shared backend: the same store as `SQLiteStorage`, in PostgreSQL, so several stateless
/// Cairn servers can serve one organization's data (DESIGN.md §3).
///
/// The guarantees are SQLite's: a batch is one transaction, acknowledged only after
/// PostgreSQL committed it (`synchronous_commit` stays on); refs move only by compare-and-swap,
/// done as conditional `UPDATE`s that PostgreSQL re-checks after any concurrent writer commits,
/// so two servers can never both move a branch from the same head.
///
/// The connection pool runs from `connect` on; as a `Service` the storage closes it when the
/// service group shuts down, after the surfaces that use it.
public final class PostgresStorage: Storage, Service {
    public let location: PostgresLocation
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    /// Names this store's announcement channel (see `broadcast`).
    public let storeID: String

    private init(location: PostgresLocation, client: PostgresClient, runner: Task<Void, Never>, storeID: String, logger: Logger) {
        self.location = location
        self.client = client
        self.runner = runner
        self.storeID = storeID
        self.logger = logger
    }

    /// Connects, and with `migrate` brings the schema up to date; without it, a database whose
    /// schema is missing or behind is an error that says to run `cairn migrate`.
    public static func connect(
        _ location: PostgresLocation,
        migrate: Bool,
        logger: Logger = Logger(label: "cairn.postgres")
    ) async throws -> PostgresStorage {
        try await probe(location, logger: logger)
        let (client, runner) = try pool(location, logger: logger)
        do {
            if migrate {
                let applied = try await PostgresSchema.migrate(client, schema: location.schema, logger: logger)
                if !applied.isEmpty {
                    logger.info("applied schema migrations", metadata: ["versions": "\(applied)", "store": "\(location)"])
                }
            }
            let version = try await PostgresSchema.currentVersion(client, logger: logger)
            guard version >= PostgresSchema.latest else {
                throw CairnError(
                    .schemaOutdated,
                    version == 0
                        ? "the database \(location) holds no Cairn store yet; run `cairn migrate` (or `cairn init`) to create it"
                        : "the database \(location) is at schema version \(version), this Cairn needs \(PostgresSchema.latest); run "
                            + "`cairn migrate`",
                    details: ["store": location.description]
                )
            }
            let id = try await client.query("SELECT id FROM cairn_store LIMIT 1", logger: logger).collect().first?.decode(String.self)
            return PostgresStorage(location: location, client: client, runner: runner, storeID: id ?? "unknown", logger: logger)
        } catch {
            runner.cancel()
            await runner.value
            throw describe(error, location: location)
        }
    }

    public func checkReady() async throws {
        let version: Int
        do {
            version = try await PostgresSchema.currentVersion(client, logger: logger)
        } catch {
            throw Self.describe(error, location: location)
        }
        guard version >= PostgresSchema.latest else {
            throw CairnError(
                .schemaOutdated,
                "the database is at schema version \(version), this Cairn needs \(PostgresSchema.latest); run `cairn migrate`"
            )
        }
    }

    /// Applies the missing migrations (for `cairn migrate`): which ran, and the version now.
    public static func migrate(
        _ location: PostgresLocation,
        logger: Logger = Logger(label: "cairn.postgres")
    ) async throws -> (applied: [Int], version: Int) {
        try await probe(location, logger: logger)
        let (client, runner) = try pool(location, logger: logger)
        defer { runner.cancel() }
        do {
            let applied = try await PostgresSchema.migrate(client, schema: location.schema, logger: logger)
            return (applied, try await PostgresSchema.currentVersion(client, logger: logger))
        } catch {
            throw describe(error, location: location)
        }
    }

    /// The schema version this build of Cairn needs.
    public static var schemaVersion: Int { PostgresSchema.latest }

    /// One connection made and closed before the pool starts. The pool retries a failing
    /// connection quietly until a request gives up (a minute later, with no reason); this fails
    /// at once with the server's own answer (refused, wrong password, no such database).
    private static func probe(_ location: PostgresLocation, logger: Logger) async throws {
        var config = PostgresConnection.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: .disable
        )
        switch location.tls {
        case .disable: break
        case .prefer: config.tls = .prefer(try .init(configuration: .makeClientConfiguration()))
        case .require: config.tls = .require(try .init(configuration: .makeClientConfiguration()))
        }
        config.options.connectTimeout = .seconds(10)
        do {
            let connection = try await PostgresConnection.connect(configuration: config, id: 0, logger: logger)
            try await connection.close()
        } catch {
            throw describe(error, location: location)
        }
    }

    private static func pool(_ location: PostgresLocation, logger: Logger) throws -> (PostgresClient, Task<Void, Never>) {
        let tls: PostgresClient.Configuration.TLS =
            switch location.tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        var config = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: tls
        )
        config.options.maximumConnections = location.poolSize
        config.options.connectTimeout = .seconds(10)
        if let schema = location.schema {
            config.options.additionalStartupParameters = [("options", "-c search_path=\(schema)")]
        }
        // The pool's own chatter (a first query racing `run()`, idle connections closing) is
        // not the operator's business; failures reach callers as errors anyway.
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: config, backgroundLogger: poolLogger)
        return (client, Task { await client.run() })
    }

    /// PostgreSQL's `synchronous_commit` for this store's sessions: `on` is what makes an
    /// acknowledged commit durable, and what Cairn runs with.
    public func synchronousCommit() async throws -> String {
        try await rows("SHOW synchronous_commit").first?.decode(String.self) ?? ""
    }

    /// Runs one statement outside the store's rules, for tests that tamper with stored bytes
    /// the way a faulty disk or an intruder would (never used by Cairn itself).
    package func executeUnchecked(_ sql: String) async throws {
        _ = try await rows(PostgresQuery(unsafeSQL: sql))
    }

    /// Stops the pool. Queries after this fail.
    public func close() {
        runner.cancel()
    }

    /// The service runs until the group shuts down, then closes the pool: listed first in the
    /// group, it stops last, after the servers that still answer requests.
    public func run() async throws {
        try? await gracefulShutdown()
        close()
        await runner.value
    }

    // MARK: Running statements

    /// One statement's rows, with PostgreSQL's errors turned into `CairnError`s a user can act on.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        do {
            return try await client.query(query, logger: logger).collect()
        } catch {
            throw Self.describe(error, location: location)
        }
    }

    func rows<S: PostgresPreparedStatement>(_ statement: S) async throws -> [S.Row] {
        do {
            var out: [S.Row] = []
            for try await row in try await client.execute(statement, logger: logger) { out.append(row) }
            return out
        } catch {
            throw Self.describe(error, location: location)
        }
    }

    /// The SQLSTATE of a server error, looking through a transaction's wrapper.
    static func sqlState(_ error: any Error) -> String? {
        if let e = error as? PSQLError { return e.serverInfo?[.sqlState] }
        if let e = error as? CairnError { return e.details["sqlstate"] }
        if let e = error as? PostgresTransactionError {
            return (e.closureError ?? e.commitError ?? e.beginError).flatMap(sqlState)
        }
        return nil
    }

    /// A message for the operator that names the store (never its password) and what went wrong.
    static func describe(_ error: any Error, location: PostgresLocation) -> any Error {
        if error is CairnError || error is RefCASFailure { return error }
        if let e = error as? PostgresTransactionError {
            if let inner = e.closureError ?? e.beginError ?? e.commitError { return describe(inner, location: location) }
        }
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] {
                let state = e.serverInfo?[.sqlState] ?? ""
                // Refused logins (class 28), a missing database (3D000), lost connections (08) and
                // a server shutting down or recovering (57P): the store is unavailable, not broken.
                let unavailable = state.hasPrefix("28") || state == "3D000" || state.hasPrefix("08") || state.hasPrefix("57P")
                return CairnError(
                    unavailable ? .storeUnavailable : .storage,
                    "the database \(location) refused: \(message) (SQLSTATE \(state))",
                    details: ["store": location.description, "sqlstate": state]
                )
            }
            return CairnError(
                .storeUnavailable,
                "cannot reach the database \(location): \(Self.reason(e.code))",
                details: ["store": location.description]
            )
        }
        return CairnError(
            .storeUnavailable,
            "the database \(location) could not be used: \(type(of: error)) (is it running, and are the address and credentials right?)",
            details: ["store": location.description]
        )
    }

    private static func reason(_ code: PSQLError.Code) -> String {
        switch code {
        case .connectionError: return "the connection failed (is the server running and the address right?)"
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown: return "the connection was closed"
        case .sslUnsupported: return "the server does not offer TLS, which sslmode=require demands"
        case .authMechanismRequiresPassword:
            return "the server wants a password and none was given (CAIRN_DATABASE_PASSWORD or CAIRN_DATABASE_PASSWORD_FILE)"
        case .unsupportedAuthMechanism: return "the server asks for an authentication method this client does not support"
        case .poolClosed: return "the connection pool is closed"
        default: return "\(code)"
        }
    }

    // MARK: Organizations and projects

    @_spi(StoreWrites) public func createOrganization(name: String, timeMillis: Millis) async throws -> OrganizationRecord {
        do {
            let rows = try await client.query(
                "INSERT INTO organization (name, created_ms) VALUES (\(name), \(timeMillis)) RETURNING id",
                logger: logger
            ).collect()
            return OrganizationRecord(id: try rows[0].decode(Int64.self), name: name, createdMillis: timeMillis)
        } catch  where Self.sqlState(error) == "23505" {
            throw CairnError(.organizationExists, "an organization named '\(name)' already exists", details: ["organization": name])
        } catch {
            throw Self.describe(error, location: location)
        }
    }

    public func organization(named name: String) async throws -> OrganizationRecord? {
        try await rows("SELECT id, name, created_ms FROM organization WHERE name = \(name)").first.map(Self.organization)
    }

    public func organization(id: Int64) async throws -> OrganizationRecord? {
        try await rows("SELECT id, name, created_ms FROM organization WHERE id = \(id)").first.map(Self.organization)
    }

    public func organizations() async throws -> [OrganizationRecord] {
        try await rows("SELECT id, name, created_ms FROM organization ORDER BY name").map(Self.organization)
    }

    private static func organization(_ row: PostgresRow) throws -> OrganizationRecord {
        let (id, name, created) = try row.decode((Int64, String, Int64).self)
        return OrganizationRecord(id: id, name: name, createdMillis: created)
    }

    @_spi(StoreWrites) public func createProject(
        organization: Int64,
        name: String,
        timeMillis: Millis,
        initial: @Sendable (Int64) -> WriteBatch
    ) async throws -> ProjectRecord {
        do {
            return try await transaction { connection in
                let rows = try await connection.query(
                    "INSERT INTO project (org, name, created_ms) VALUES (\(organization), \(name), \(timeMillis)) RETURNING id",
                    logger: self.logger
                ).collect()
                let record = ProjectRecord(
                    id: try rows[0].decode(Int64.self),
                    organization: organization,
                    name: name,
                    createdMillis: timeMillis
                )
                try await self.write(initial(record.id), on: connection)
                return record
            }
        } catch  where Self.sqlState(error) == "23505" {
            throw CairnError(.projectExists, "a project named '\(name)' already exists", details: ["project": name])
        }
    }

    public func project(organization: Int64, named name: String) async throws -> ProjectRecord? {
        try await rows("SELECT id, org, name, created_ms FROM project WHERE org = \(organization) AND name = \(name)").first.map(
            Self.project
        )
    }

    public func projects(organization: Int64) async throws -> [ProjectRecord] {
        try await rows("SELECT id, org, name, created_ms FROM project WHERE org = \(organization) ORDER BY name").map(Self.project)
    }

    private static func project(_ row: PostgresRow) throws -> ProjectRecord {
        let (id, org, name, created) = try row.decode((Int64, Int64, String, Int64).self)
        return ProjectRecord(id: id, organization: org, name: name, createdMillis: created)
    }

    // MARK: Objects

    public func object(_ id: ObjectID, project: Int64) async throws -> StoredObject? {
        try await rows(ObjectRead(project: project, key: id.buffer)).first.flatMap { Self.storedObject(kind: $0.0, data: $0.1) }
    }

    public func objects(_ ids: [ObjectID], project: Int64) async throws -> [ObjectID: StoredObject] {
        guard !ids.isEmpty else { return [:] }
        var out: [ObjectID: StoredObject] = [:]
        out.reserveCapacity(ids.count)
        // One statement per 1,000 ids: one round trip each instead of one per object.
        for start in stride(from: 0, to: ids.count, by: 1000) {
            let slice = ids[start..<min(ids.count, start + 1000)].map(\.buffer)
            for row in try await rows("SELECT id, kind, data FROM object WHERE project = \(project) AND id = ANY(\(slice))") {
                let (idBytes, kind, data) = try row.decode((ByteBuffer, Int16, ByteBuffer).self)
                if let id = ObjectID(buffer: idBytes), let object = Self.storedObject(kind: kind, data: data) { out[id] = object }
            }
        }
        return out
    }

    public func objectPage(project: Int64, after: ObjectID?, limit: Int) async throws -> [(ObjectID, StoredObject)] {
        let start = after?.buffer ?? ByteBuffer()
        return try await rows("SELECT id, kind, data FROM object WHERE project = \(project) AND id > \(start) ORDER BY id LIMIT \(limit)")
            .compactMap { row in
                let (idBytes, kind, data) = try row.decode((ByteBuffer, Int16, ByteBuffer).self)
                guard let id = ObjectID(buffer: idBytes) else { return nil }
                return (id, Self.storedObject(kind: kind, data: data) ?? StoredObject(kind: .blob, data: Array(buffer: data)))
            }
    }

    static func storedObject(kind: Int16, data: ByteBuffer) -> StoredObject? {
        guard let kind = ObjectKind(rawValue: UInt8(truncatingIfNeeded: kind)) else { return nil }
        return StoredObject(kind: kind, data: Array(buffer: data))
    }

    // MARK: Refs

    public func head(project: Int64, branch: String) async throws -> ObjectID? {
        try await rows(HeadRead(project: project, key: branch)).first.flatMap { ObjectID(buffer: $0) }
    }

    public func branches(project: Int64) async throws -> [(name: String, head: ObjectID)] {
        try await rows("SELECT name, head FROM ref WHERE project = \(project) ORDER BY name").compactMap { row in
            let (name, head) = try row.decode((String, ByteBuffer).self)
            return ObjectID(buffer: head).map { (name, $0) }
        }
    }

    public func refLogEntry(project: Int64, branch: String, atOrBefore timeMillis: Millis) async throws -> RefLogEntry? {
        try await rows(
            """
            SELECT seq, name, old, new, time_ms, principal, reason FROM reflog
            WHERE project = \(project) AND name = \(branch) AND time_ms <= \(timeMillis) ORDER BY time_ms DESC, seq DESC LIMIT 1
            """
        ).first.map(Self.refLogEntry)
    }

    public func refLog(project: Int64, branch: String, beforeSeq: Int64?, limit: Int) async throws -> [RefLogEntry] {
        try await rows(
            """
            SELECT seq, name, old, new, time_ms, principal, reason FROM reflog
            WHERE project = \(project) AND name = \(branch) AND seq < \(beforeSeq ?? Int64.max)
            ORDER BY seq DESC LIMIT \(Int64(min(limit, Int(Int32.max))))
            """
        ).map(Self.refLogEntry)
    }

    public func refCreation(project: Int64, branch: String) async throws -> RefLogEntry? {
        try await rows(
            """
            SELECT seq, name, old, new, time_ms, principal, reason FROM reflog
            WHERE project = \(project) AND name = \(branch) AND old IS NULL ORDER BY seq DESC LIMIT 1
            """
        ).first.map(Self.refLogEntry)
    }

    private static func refLogEntry(_ row: PostgresRow) throws -> RefLogEntry {
        let (seq, name, old, new, time, principal, reason) = try row.decode(
            (Int64, String, ByteBuffer?, ByteBuffer?, Int64, String, String).self
        )
        return RefLogEntry(
            seq: seq,
            branch: name,
            old: old.flatMap { ObjectID(buffer: $0) },
            new: new.flatMap { ObjectID(buffer: $0) },
            timeMillis: time,
            principal: principal,
            reason: reason
        )
    }

    // MARK: Indexes

    public func commitIndex(project: Int64, id: ObjectID) async throws -> CommitIndexEntry? {
        try await rows(CommitIndexRead(project: project, key: id.buffer)).first.map { row in
            CommitIndexEntry(
                id: id,
                generation: Int(row.0),
                parent: row.1.flatMap { ObjectID(buffer: $0) },
                skip: row.2.flatMap { ObjectID(buffer: $0) },
                timeMillis: row.3
            )
        }
    }

    public func commitIDs(project: Int64, from: [UInt8], through: [UInt8], limit: Int) async throws -> [ObjectID] {
        try await rows(
            """
            SELECT id FROM commit_index
            WHERE project = \(project) AND id BETWEEN \(ByteBuffer(bytes: from)) AND \(ByteBuffer(bytes: through))
            ORDER BY id LIMIT \(limit)
            """
        ).compactMap { ObjectID(buffer: try $0.decode(ByteBuffer.self)) }
    }

    public func pathHistory(
        project: Int64,
        path: String,
        before: (generation: Int, commit: ObjectID)?,
        limit: Int
    ) async throws -> [PathHistoryEntry] {
        let found: [PostgresRow]
        if let before {
            found = try await rows(
                """
                SELECT generation, commit_id, change, blob FROM path_history
                WHERE project = \(project) AND path = \(path)
                    AND (generation, commit_id) < (\(Int64(before.generation)), \(before.commit.buffer))
                ORDER BY generation DESC, commit_id DESC LIMIT \(limit)
                """
            )
        } else {
            found = try await rows(
                """
                SELECT generation, commit_id, change, blob FROM path_history
                WHERE project = \(project) AND path = \(path) ORDER BY generation DESC, commit_id DESC LIMIT \(limit)
                """
            )
        }
        return try found.compactMap { row in
            let (generation, commit, change, blob) = try row.decode((Int64, ByteBuffer, String, ByteBuffer?).self)
            guard let commit = ObjectID(buffer: commit), let change = ChangeKind(rawValue: change) else { return nil }
            return PathHistoryEntry(
                path: path,
                generation: Int(generation),
                commit: commit,
                change: change,
                blob: blob.flatMap { ObjectID(buffer: $0) }
            )
        }
    }

    // MARK: Audit

    public func auditEntries(organization: Int64, afterSeq: Int64, limit: Int, filter: AuditFilter) async throws -> [AuditEntry] {
        var query: PostgresQuery =
            "SELECT seq, time_ms, actor, action, outcome, body, prev, hash FROM audit WHERE org = \(organization) AND seq > \(afterSeq)"
        // Each filter adds a bound parameter, never text from the caller.
        func and(_ column: String, _ op: String, _ value: some PostgresDynamicTypeEncodable) {
            query.sql += " AND \(column) \(op) $\(query.binds.count + 1)"
            query.binds.append(value)
        }
        if let actor = filter.actor { and("actor", "=", actor) }
        if let action = filter.action { and("action", "=", action) }
        if let outcome = filter.outcome { and("outcome", "=", outcome) }
        if let since = filter.sinceMillis { and("time_ms", ">=", since) }
        if let until = filter.untilMillis { and("time_ms", "<", until) }
        query.sql += " ORDER BY seq LIMIT $\(query.binds.count + 1)"
        query.binds.append(Int64(limit))
        return try await rows(query).map { row in
            let (seq, time, actor, action, outcome, body, prev, hash) = try row.decode(
                (Int64, Int64, String, String, String, ByteBuffer, ByteBuffer, ByteBuffer).self
            )
            return AuditEntry(
                seq: seq,
                timeMillis: time,
                actor: actor,
                action: action,
                outcome: outcome,
                body: Array(buffer: body),
                previousHash: ObjectID(buffer: prev) ?? AuditChain.genesis,
                hash: ObjectID(buffer: hash) ?? AuditChain.genesis
            )
        }
    }

    public func runCalls(project: Int64, run: String, afterSeq: Int64, limit: Int) async throws -> [RunCallRecord] {
        try await rows(
            """
            SELECT seq, time_ms, body FROM run_call WHERE project = \(project) AND run = \(run) AND seq > \(afterSeq)
            ORDER BY seq LIMIT \(Int64(limit))
            """
        ).map { row in
            let (seq, time, body) = try row.decode((Int64, Int64, ByteBuffer).self)
            return RunCallRecord(project: project, run: run, seq: seq, timeMillis: time, body: Array(buffer: body))
        }
    }

    public func storageBytes() async throws -> Int64 {
        let schema = location.schema ?? "public"
        let rows = try await rows(
            """
            SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(schema) AND c.relkind = 'r'
            """
        )
        return try rows.first?.decode(Int64.self) ?? 0
    }
}

extension ObjectID {
    var buffer: ByteBuffer { ByteBuffer(bytes: bytes) }

    init?(buffer: ByteBuffer) {
        guard buffer.readableBytes == 32, let bytes = buffer.getBytes(at: buffer.readerIndex, length: 32) else { return nil }
        self.init(bytes: bytes)
    }
}
