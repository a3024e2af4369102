import CairnCore
import CairnGovernance
import Prometheus

/// The gauges an operator watches, read at each scrape of `/metrics` (with `HELP` lines and base
/// units): what is held in memory and what is open now. Counters of events (commits, denials,
/// authentication failures by reason) are kept where the events happen.
struct OperatorMetrics: Sendable {
    let nodeCacheBytes: Gauge
    let feedSubscribers: Gauge
    let mcpSessions: Gauge
    let solvesRunning: Gauge

    init(registry: PrometheusCollectorRegistry) {
        func gauge(_ name: String, _ unit: String, _ help: String, labels: [(String, String)] = []) -> Gauge {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(namespace: "cairn", metricName: name, unitName: unit, helpText: help),
                labels: labels
            )
        }
        nodeCacheBytes = gauge("node_cache", "bytes", "Estimated bytes of decoded tree nodes held in memory (bounded by nodeCacheBytes).")
        feedSubscribers = gauge("feed", "subscribers", "Change-feed streams open now.")
        mcpSessions = gauge("mcp", "sessions", "MCP sessions over HTTP open now (each is one agent run).")
        solvesRunning = gauge("solves", "running", "Solves running now on this server.")
        gauge("build", "info", "The version of this build (always 1).", labels: [("version", CairnVersion.current)]).set(Int64(1))
    }

    func refresh(gateway: Gateway, sessions: Int) {
        nodeCacheBytes.set(Int64(gateway.repository.nodes.bytes))
        feedSubscribers.set(Int64(gateway.feed.subscriberCount))
        mcpSessions.set(Int64(sessions))
        solvesRunning.set(Int64(gateway.compute.runningSolveCount))
    }
}
