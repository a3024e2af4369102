import CairnCore
@_spi(StoreWrites) import CairnStore
import PostgresNIO

extension PostgresStorage {
    /// The database's clock in milliseconds: every server sharing the store reads the same one.
    private static let now = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

    @_spi(StoreWrites) public func takeLease(_ name: String, holder: String, ttlMillis: Millis, replacing: String?) async throws -> Bool {
        let taken = try await rows(
            """
            INSERT INTO lease (name, holder, expires_ms) VALUES (\(name), \(holder), \(unescaped: Self.now) + \(ttlMillis))
            ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_ms = EXCLUDED.expires_ms
            WHERE lease.holder = EXCLUDED.holder OR lease.expires_ms <= \(unescaped: Self.now) OR lease.holder = \(replacing)
            RETURNING name
            """
        )
        return !taken.isEmpty
    }

    @_spi(StoreWrites) public func renewLeases(holder: String, ttlMillis: Millis) async throws -> Set<String> {
        let held = try await rows(
            "UPDATE lease SET expires_ms = \(unescaped: Self.now) + \(ttlMillis) WHERE holder = \(holder) RETURNING name"
        )
        return Set(try held.map { try $0.decode(String.self) })
    }

    @_spi(StoreWrites) public func releaseLease(_ name: String, holder: String) async throws {
        _ = try await rows("DELETE FROM lease WHERE name = \(name) AND holder = \(holder)")
    }

    public func leases(prefix: String, after: String?, limit: Int) async throws -> [(lease: Lease, expired: Bool)] {
        // A byte range (the names collate as "C"), never LIKE, whose `%` and `_` a prefix may hold.
        let found = try await rows(
            """
            SELECT name, holder, expires_ms, expires_ms <= \(unescaped: Self.now) FROM lease
            WHERE name >= \(prefix) AND name < \(prefix + "\u{10FFFF}") AND name > \(after ?? "")
            ORDER BY name LIMIT \(Int64(limit))
            """
        )
        return try found.map { row in
            let (name, holder, expires, expired) = try row.decode((String, String, Int64, Bool).self)
            return (Lease(name: name, holder: holder, expiresMillis: expires), expired)
        }
    }
}
