import CairnGovernance
import ServiceLifecycle

/// Delivers to this server's change feeds the events other servers sharing the store
/// broadcast (see `Gateway.followOtherServers`). On a store no one shares there is nothing to hear; the service then only waits
/// for shutdown (a service that returned would stop the whole group).
public struct FeedRelay: Service {
    let gateway: Gateway

    public init(gateway: Gateway) { self.gateway = gateway }

    /// Relays other servers' events to this server's feeds until cancelled.
    public func run() async throws {
        let storage = gateway.repository.storage
        guard storage.isShared else {
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown { await gateway.followOtherServers() }
    }
}
