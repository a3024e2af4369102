import CairnCore

/// A claim on something that must have exactly one live owner, such as a run and the server
/// holding its session. It lasts while its holder renews it; a holder that died stops renewing,
/// the lease expires, and another holder may take it over and clean up after the dead one.
///
/// Leases are operational state, not history: they are kept beside the versioned store, never
/// copied by `cairn copy`, and expire on the backend's own clock (the database's, on a shared
/// PostgreSQL store, so servers with skewed clocks still agree).
public struct Lease: Sendable, Equatable {
    public let name: String
    public let holder: String
    public let expiresMillis: Millis

    public init(name: String, holder: String, expiresMillis: Millis) {
        self.name = name
        self.holder = holder
        self.expiresMillis = expiresMillis
    }
}

/// The lease operations every backend provides; each is one atomic statement.
public protocol LeaseStore: Sendable {
    /// Takes `name` for `holder` until `ttlMillis` from now: when no one holds it, when `holder`
    /// already does (a renewal), when its holder let it expire, or when its holder is
    /// `replacing` (one the caller knows to be dead). False when another holder has it.
    @_spi(StoreWrites) func takeLease(_ name: String, holder: String, ttlMillis: Millis, replacing: String?) async throws -> Bool
    /// Extends every lease `holder` has; the names it still holds (one taken over meanwhile,
    /// after the holder failed to renew in time, is no longer among them).
    @_spi(StoreWrites) func renewLeases(holder: String, ttlMillis: Millis) async throws -> Set<String>
    /// Gives `name` up, if `holder` still has it.
    @_spi(StoreWrites) func releaseLease(_ name: String, holder: String) async throws
    /// The leases whose name starts with `prefix`, after `after` in name order, with whether
    /// each has expired on the backend's clock.
    func leases(prefix: String, after: String?, limit: Int) async throws -> [(lease: Lease, expired: Bool)]
}
