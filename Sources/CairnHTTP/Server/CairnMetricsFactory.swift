import CoreMetrics
import Prometheus

/// The metrics factory `cairn serve` bootstraps: Prometheus, with a `HELP` line and a base unit
/// for every metric Cairn itself records. swift-metrics carries no help text, so the metrics
/// named here are registered with the Prometheus registry directly (always with the same text,
/// as the registry requires); every other metric (Hummingbird's) goes through the standard factory.
public struct CairnMetricsFactory: MetricsFactory {
    private let base: PrometheusMetricsFactory
    private let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        base = PrometheusMetricsFactory(registry: registry)
    }

    /// Name (without its unit suffix), unit, help.
    static let counters: [String: (String, String, String)] = [
        "cairn_decisions_total": ("cairn_decisions", "total", "Authorization decisions made."),
        "cairn_denials_total": ("cairn_denials", "total", "Authorization decisions that denied the action."),
        "cairn_denials_by_rule_total": (
            "cairn_denials_by_rule", "total",
            "Denials by the kind of rule that decided (grant, key-scope, org-ceiling, default-deny, on-behalf-of)."
        ),
        "cairn_auth_failures_total": ("cairn_auth_failures", "total", "Failed authentications by reason."),
        "cairn_validation_failures_total": ("cairn_validation_failures", "total", "Changes the ontology refused."),
        "cairn_commit_transactions_total": (
            "cairn_commit_transactions", "total", "Durable store transactions; each holds one or more commits (group commit)."
        ),
        "cairn_agent_runs_total": ("cairn_agent_runs", "total", "Agent runs by status: started, and the status each ended in."),
    ]
    static let groupCommitSize = "cairn_group_commit_size"
    static let commitDuration = "cairn_commit_duration_seconds"

    /// Counters go to Prometheus as they are.
    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let (name, unit, help) = Self.counters[label] else { return base.makeCounter(label: label, dimensions: dimensions) }
        return registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: unit, helpText: help), labels: dimensions)
    }

    /// Floating-point counters go to Prometheus as they are.
    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        base.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    /// The group-commit size gets buckets of its own (1 to 128 commits); other recorders go through.
    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard label == Self.groupCommitSize else { return base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate) }
        return registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "cairn_group_commit",
                unitName: "size",
                helpText: "Commits that shared one durable transaction."
            ),
            labels: dimensions,
            buckets: [1, 2, 4, 8, 16, 32, 64, 128]
        )
    }

    /// Meters (gauges) go to Prometheus as they are.
    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        base.makeMeter(label: label, dimensions: dimensions)
    }

    /// The commit duration gets buckets chosen for durable commits; other timers go through.
    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard label == Self.commitDuration else { return base.makeTimer(label: label, dimensions: dimensions) }
        return registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "cairn_commit_duration",
                unitName: "seconds",
                helpText: "Time for a group of commits to become durable."
            ),
            labels: dimensions,
            buckets: base.defaultDurationHistogramBuckets
        )
    }

    /// Handlers are released by the registry that made them.
    public func destroyCounter(_ handler: any CounterHandler) { base.destroyCounter(handler) }
    /// Released by the registry that made it.
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { base.destroyFloatingPointCounter(handler) }
    /// Released by the registry that made it.
    public func destroyRecorder(_ handler: any RecorderHandler) { base.destroyRecorder(handler) }
    /// Released by the registry that made it.
    public func destroyMeter(_ handler: any MeterHandler) { base.destroyMeter(handler) }
    /// Released by the registry that made it.
    public func destroyTimer(_ handler: any TimerHandler) { base.destroyTimer(handler) }
}
