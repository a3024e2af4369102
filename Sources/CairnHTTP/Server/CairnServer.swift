import CairnCore
import CairnGovernance
import CairnStore
import Foundation
import Hummingbird
import Logging
import Prometheus

/// The HTTP surface: parse, call the Gateway, render. No policy lives here.
public struct CairnServer: Sendable {
    public let gateway: Gateway
    public let config: ServerConfig
    let registry: PrometheusCollectorRegistry

    public init(gateway: Gateway, config: ServerConfig, registry: PrometheusCollectorRegistry) {
        self.gateway = gateway
        self.config = config
        self.registry = registry
    }

    /// Builds the application; `onRunning` receives the bound port (useful with port 0).
    public func application(logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        router.middlewares.add(ErrorMiddleware())
        router.middlewares.add(MetricsMiddleware())
        let routes = Routes(gateway: gateway, config: config, registry: registry)
        routes.register(on: router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "cairn"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }
}
