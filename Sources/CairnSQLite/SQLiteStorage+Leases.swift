import CairnCore
@_spi(StoreWrites) import CairnStore
import GRDB

extension SQLiteStorage {
    @_spi(StoreWrites) public func takeLease(_ name: String, holder: String, ttlMillis: Millis, replacing: String?) async throws -> Bool {
        let now = Clock.nowMillis()
        return try await writing { db in
            try db.execute(
                sql: """
                    INSERT INTO lease (name, holder, expires_ms) VALUES (?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
                    WHERE lease.holder = excluded.holder OR lease.expires_ms <= ? OR lease.holder = ?
                    """,
                arguments: [name, holder, now + ttlMillis, now, replacing]
            )
            return db.changesCount > 0
        }
    }

    @_spi(StoreWrites) public func renewLeases(holder: String, ttlMillis: Millis) async throws -> Set<String> {
        let now = Clock.nowMillis()
        return try await writing { db in
            try db.execute(sql: "UPDATE lease SET expires_ms = ? WHERE holder = ?", arguments: [now + ttlMillis, holder])
            return Set(try String.fetchAll(db, sql: "SELECT name FROM lease WHERE holder = ?", arguments: [holder]))
        }
    }

    @_spi(StoreWrites) public func releaseLease(_ name: String, holder: String) async throws {
        try await writing { db in try db.execute(sql: "DELETE FROM lease WHERE name = ? AND holder = ?", arguments: [name, holder]) }
    }

    public func leases(prefix: String, after: String?, limit: Int) async throws -> [(lease: Lease, expired: Bool)] {
        let now = Clock.nowMillis()
        // Names are compared as bytes (`name >= prefix AND name < prefix + U+10FFFF`), never with
        // LIKE, whose `%` and `_` a prefix may contain.
        return try await reading { db in
            try Row.fetchAll(
                db,
                sql: "SELECT name, holder, expires_ms FROM lease WHERE name >= ? AND name < ? AND name > ? ORDER BY name LIMIT ?",
                arguments: [prefix, prefix + "\u{10FFFF}", after ?? "", limit]
            ).map { row in
                let lease = Lease(name: row[0], holder: row[1], expiresMillis: row[2])
                return (lease, lease.expiresMillis <= now)
            }
        }
    }
}
