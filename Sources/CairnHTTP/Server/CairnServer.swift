import CairnCore
import CairnEngine
import CairnGovernance
import CairnStore
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import Prometheus
import ServiceLifecycle

/// The HTTP surface: parse, call the Gateway, render. No policy lives here.
public struct CairnServer: Sendable {
    public let gateway: Gateway
    /// Where the runs of this server's sessions live.
    public let engine: Engine
    /// Workflows, and the scheduler that fires their cron triggers.
    public let workflows: Workflows
    public let scheduler: WorkflowScheduler
    /// The open MCP sessions over HTTP, each one run.
    let mcpSessions = MCPSessions()
    public let config: ServerConfig
    let registry: PrometheusCollectorRegistry
    /// With a certificate, the server speaks HTTPS only.
    let tls: TLSCertificates?

    public init(
        gateway: Gateway,
        engine: Engine,
        config: ServerConfig,
        registry: PrometheusCollectorRegistry,
        tls: TLSCertificates? = nil,
        clock: any WorkflowClock = SystemWorkflowClock()
    ) {
        self.gateway = gateway
        self.engine = engine
        self.workflows = Workflows(engine: engine, clock: clock, agentHosts: config.agentHosts)
        self.scheduler = WorkflowScheduler(workflows: workflows)
        self.config = config
        self.registry = registry
        self.tls = tls
    }

    /// Builds the application; `onRunning` receives the bound port (useful with port 0).
    public func application(
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let router = Router(context: CairnRequestContext.self)
        // Outermost first: the request log sees every answer; metrics see the status the error
        // middleware (inside them) gives each error, not a 500 for every thrown error.
        router.middlewares.add(RequestLogMiddleware(logger: logger))
        router.middlewares.add(MetricsMiddleware())
        router.middlewares.add(CORSAllowListMiddleware(origins: Set(config.corsOrigins)))
        router.middlewares.add(ErrorMiddleware())
        let routes = Routes(
            gateway: gateway,
            engine: engine,
            workflows: workflows,
            scheduler: scheduler,
            config: config,
            registry: registry,
            mcpSessions: mcpSessions,
            consoleSessions: ConsoleSessions()
        )
        routes.register(on: router)
        var server: HTTPServerBuilder = .http1()
        if let tls { server = try .tls(.http1(), tlsConfiguration: tls.configuration()) }
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "cairn"),
            onServerRunning: { [workflows, config, tls] channel in
                let port = channel.localAddress?.port ?? 0
                // Agent steps' programs reach this server on loopback when it listens there (or everywhere).
                let host = ["0.0.0.0", "::", "localhost"].contains(config.host) ? "127.0.0.1" : config.host
                workflows.setAgentEndpoint("\(tls == nil ? "http" : "https")://\(host.contains(":") ? "[\(host)]" : host):\(port)")
                await onRunning(port)
            },
            logger: logger
        )
    }

    /// Ends this server's sessions when it is asked to stop: each MCP session over HTTP is
    /// closed (its stream ends, so the server's graceful shutdown does not wait on it) and its
    /// run ended by the recovery policy. Listed after the application, it stops first.
    public var sessionCloser: some Service { SessionCloser(sessions: mcpSessions, engine: engine) }

    /// Renews this server's run leases and recovers runs nobody holds (see `Engine.keepLeases`),
    /// from start-up to shutdown. Listed before the application, it stops after it.
    public var leaseKeeper: some Service { LeaseKeeper(engine: engine) }

    /// Fires workflows' cron triggers (and, at start-up, starts firings a stopped server had
    /// recorded but not started), from start-up to shutdown.
    public var workflowScheduler: some Service { SchedulerService(scheduler: scheduler) }
}

struct SchedulerService: Service {
    let scheduler: WorkflowScheduler

    func run() async throws {
        await cancelWhenGracefulShutdown { await scheduler.run() }
    }
}

struct LeaseKeeper: Service {
    let engine: Engine

    func run() async throws {
        await cancelWhenGracefulShutdown { await engine.keepLeases() }
    }
}

struct SessionCloser: Service {
    let sessions: MCPSessions
    let engine: Engine

    func run() async throws {
        try? await gracefulShutdown()
        for entry in await sessions.removeAll() { await entry.server.stop() }
        await engine.abandonAll(why: "the server stopped while the session was open")
    }
}
