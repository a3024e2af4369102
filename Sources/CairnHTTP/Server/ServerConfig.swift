import CairnCore
import CairnEngine
import Foundation

/// Everything `cairn serve` can be told, from a JSON file, the environment (`CAIRN_*`) and
/// flags, in rising precedence. Defaults make a bare `cairn serve` safe: loopback only.
public struct ServerConfig: Sendable, Codable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8270
    public var data = "cairn-data"
    /// The organization made on first start.
    public var organization = "default"
    public var maxBodyBytes = 8 << 20
    public var requestsPerSecond = 200.0
    public var burst = 400.0
    public var requestTimeoutSeconds = 30.0
    public var maxPathBytes = 1024
    public var maxPatternBytes = 1024
    public var jwksRefetchSeconds = 10.0
    /// How often an idle change feed sends a comment line, which finds clients that are gone.
    public var feedHeartbeatSeconds = 15.0
    /// An MCP session idle this long has lost its client: it is closed and its run ended by `runRecovery`.
    public var mcpIdleSeconds = 1800.0
    /// What becomes of a run whose session is gone (idle past `mcpIdleSeconds`, or the server
    /// stopping): `interrupt` (default: ended `interrupted`, its branch kept for a person) or
    /// `merge` (ended as if its client had closed it).
    public var runRecovery: Engine.RecoveryPolicy = .interrupt
    /// How long a run's lease lasts unrenewed (renewed every third of it): how soon another
    /// server sharing the store recovers the runs of a server that died. A dead server on the
    /// same machine is seen at once, at the next start.
    public var runLeaseSeconds = 15.0
    /// A PostgreSQL store shared with other servers (postgres://USER@HOST:PORT/DB); without
    /// one, the SQLite file in `data`. Keep the password out of it: see `databasePasswordFile`.
    public var databaseURL: String? = nil
    /// A file holding the database password (or set CAIRN_DATABASE_PASSWORD).
    public var databasePasswordFile: String? = nil
    /// Origins a browser may call the API from (CORS); none by default.
    public var corsOrigins: [String] = []
    /// Failed authentications allowed per client address, per second and in a burst.
    public var authFailuresPerSecond = 5.0
    public var authFailureBurst = 60.0
    /// The most matching time one Grep may take, and how fast a credential's search time refills.
    public var grepSecondsPerRequest = 30.0
    public var grepSecondsPerSecond = 0.5
    /// Heavy jobs (solves, route batches, matrices) one credential may run at once, and the whole
    /// server (by default one per core, at least 2); past either, 429 until one ends. 0: no bound.
    public var heavyJobsPerCredential = 2
    public var heavyJobsPerServer = max(2, ProcessInfo.processInfo.activeProcessorCount)
    /// The memory decoded tree nodes may take between requests (`cairn_node_cache_bytes`).
    public var nodeCacheBytes = 64 << 20
    /// HTTPS: a PEM certificate chain and its key (both files are read again on SIGHUP).
    public var tlsCertificate: String? = nil
    public var tlsKey: String? = nil
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the client (for limits and logs).
    public var trustedProxies: [String] = []
    /// Agent programs a workflow's agent step may launch, by name: a command line (any
    /// MCP-capable agent; it is given CAIRN_MCP_URL, CAIRN_TOKEN, CAIRN_PROMPT).
    public var agentHosts: [String: [String]] = [:]

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ServerConfig()
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port
        data = try c.decodeIfPresent(String.self, forKey: .data) ?? d.data
        organization = try c.decodeIfPresent(String.self, forKey: .organization) ?? d.organization
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? d.maxBodyBytes
        requestsPerSecond = try c.decodeIfPresent(Double.self, forKey: .requestsPerSecond) ?? d.requestsPerSecond
        burst = try c.decodeIfPresent(Double.self, forKey: .burst) ?? d.burst
        requestTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .requestTimeoutSeconds) ?? d.requestTimeoutSeconds
        maxPathBytes = try c.decodeIfPresent(Int.self, forKey: .maxPathBytes) ?? d.maxPathBytes
        maxPatternBytes = try c.decodeIfPresent(Int.self, forKey: .maxPatternBytes) ?? d.maxPatternBytes
        jwksRefetchSeconds = try c.decodeIfPresent(Double.self, forKey: .jwksRefetchSeconds) ?? d.jwksRefetchSeconds
        feedHeartbeatSeconds = try c.decodeIfPresent(Double.self, forKey: .feedHeartbeatSeconds) ?? d.feedHeartbeatSeconds
        guard feedHeartbeatSeconds > 0 else { throw CairnError(.invalidArgument, "feedHeartbeatSeconds must be more than 0") }
        mcpIdleSeconds = try c.decodeIfPresent(Double.self, forKey: .mcpIdleSeconds) ?? d.mcpIdleSeconds
        guard mcpIdleSeconds > 0 else { throw CairnError(.invalidArgument, "mcpIdleSeconds must be more than 0") }
        runLeaseSeconds = max(1, try c.decodeIfPresent(Double.self, forKey: .runLeaseSeconds) ?? d.runLeaseSeconds)
        if let text = try c.decodeIfPresent(String.self, forKey: .runRecovery) {
            guard let policy = Engine.RecoveryPolicy(rawValue: text) else {
                throw CairnError(.invalidArgument, "runRecovery is 'interrupt' or 'merge', not '\(text)'")
            }
            runRecovery = policy
        }
        databaseURL = try c.decodeIfPresent(String.self, forKey: .databaseURL)
        databasePasswordFile = try c.decodeIfPresent(String.self, forKey: .databasePasswordFile)
        corsOrigins = try c.decodeIfPresent([String].self, forKey: .corsOrigins) ?? d.corsOrigins
        authFailuresPerSecond = try c.decodeIfPresent(Double.self, forKey: .authFailuresPerSecond) ?? d.authFailuresPerSecond
        authFailureBurst = try c.decodeIfPresent(Double.self, forKey: .authFailureBurst) ?? d.authFailureBurst
        nodeCacheBytes = try c.decodeIfPresent(Int.self, forKey: .nodeCacheBytes) ?? d.nodeCacheBytes
        grepSecondsPerRequest = try c.decodeIfPresent(Double.self, forKey: .grepSecondsPerRequest) ?? d.grepSecondsPerRequest
        grepSecondsPerSecond = try c.decodeIfPresent(Double.self, forKey: .grepSecondsPerSecond) ?? d.grepSecondsPerSecond
        heavyJobsPerCredential = try c.decodeIfPresent(Int.self, forKey: .heavyJobsPerCredential) ?? d.heavyJobsPerCredential
        heavyJobsPerServer = try c.decodeIfPresent(Int.self, forKey: .heavyJobsPerServer) ?? d.heavyJobsPerServer
        guard heavyJobsPerCredential >= 0, heavyJobsPerServer >= 0 else {
            throw CairnError(.invalidArgument, "heavyJobsPerCredential and heavyJobsPerServer are counts ≥ 0 (0: no bound)")
        }
        guard grepSecondsPerRequest > 0, grepSecondsPerSecond >= 0 else {
            throw CairnError(.invalidArgument, "grepSecondsPerRequest must be more than 0 and grepSecondsPerSecond at least 0")
        }
        tlsCertificate = try c.decodeIfPresent(String.self, forKey: .tlsCertificate)
        tlsKey = try c.decodeIfPresent(String.self, forKey: .tlsKey)
        trustedProxies = try c.decodeIfPresent([String].self, forKey: .trustedProxies) ?? d.trustedProxies
        agentHosts = try c.decodeIfPresent([String: [String]].self, forKey: .agentHosts) ?? d.agentHosts
        guard agentHosts.values.allSatisfy({ !$0.isEmpty && $0[0].hasPrefix("/") }) else {
            throw CairnError(.invalidArgument, "each agent host is a command line whose first word is an absolute path")
        }
        guard nodeCacheBytes >= 1 << 20 else { throw CairnError(.invalidArgument, "nodeCacheBytes must be at least 1 MiB") }
    }

    /// Reads a JSON config file; unknown keys are an error, so a typo never silently does nothing.
    public static func load(file: String) throws -> ServerConfig {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CairnError(.notFound, "cannot read the config file '\(file)'", details: ["file": file])
        }
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            let known = Set(CodingKeys.allCases.map(\.rawValue))
            if let unknown = object.keys.first(where: { !known.contains($0) }) {
                throw CairnError(
                    .invalidArgument,
                    "unknown setting '\(unknown)' in \(file); known: \(known.sorted().joined(separator: ", "))",
                    details: ["setting": unknown]
                )
            }
        }
        do {
            return try JSONDecoder().decode(ServerConfig.self, from: data)
        } catch {
            throw CairnError(.invalidArgument, "the config file '\(file)' is not valid: \(error)", details: ["file": file])
        }
    }

    /// Applies `CAIRN_HOST`, `CAIRN_PORT`, `CAIRN_DATA`, `CAIRN_ORG`, `CAIRN_MAX_BODY_BYTES`,
    /// `CAIRN_RATE_LIMIT` (requests per second), `CAIRN_REQUEST_TIMEOUT` (seconds),
    /// `CAIRN_JWKS_REFETCH_SECONDS`, `CAIRN_FEED_HEARTBEAT_SECONDS`, `CAIRN_DATABASE_URL`,
    /// `CAIRN_DATABASE_PASSWORD_FILE`, `CAIRN_HEAVY_JOBS_PER_CREDENTIAL`, `CAIRN_HEAVY_JOBS_PER_SERVER`.
    public mutating func applyEnvironment(_ env: [String: String]) throws {
        func number<T: LosslessStringConvertible>(_ key: String, _ apply: (T) -> Void) throws {
            guard let raw = env[key] else { return }
            guard let v = T(raw) else { throw CairnError(.invalidArgument, "\(key) must be a number", details: ["variable": key]) }
            apply(v)
        }
        if let v = env["CAIRN_HOST"] { host = v }
        if let v = env["CAIRN_DATA"] { data = v }
        if let v = env["CAIRN_ORG"] { organization = v }
        if let v = env["CAIRN_DATABASE_URL"], !v.isEmpty { databaseURL = v }
        if let v = env["CAIRN_DATABASE_PASSWORD_FILE"] { databasePasswordFile = v }
        if let v = env["CAIRN_TLS_CERT"] { tlsCertificate = v }
        if let v = env["CAIRN_TLS_KEY"] { tlsKey = v }
        if let v = env["CAIRN_TRUSTED_PROXIES"] {
            trustedProxies = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let v = env["CAIRN_AGENT_HOSTS"] {
            guard let hosts = try? JSONDecoder().decode([String: [String]].self, from: Data(v.utf8)),
                hosts.values.allSatisfy({ !$0.isEmpty && $0[0].hasPrefix("/") })
            else {
                throw CairnError(.invalidArgument, "CAIRN_AGENT_HOSTS is a JSON object of NAME: [ABSOLUTE_PATH, ARG, …]")
            }
            agentHosts = hosts
        }
        if let v = env["CAIRN_CORS_ORIGINS"] {
            corsOrigins = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        try number("CAIRN_PORT") { (v: Int) in port = v }
        try number("CAIRN_MAX_BODY_BYTES") { (v: Int) in maxBodyBytes = v }
        try number("CAIRN_RATE_LIMIT") { (v: Double) in
            requestsPerSecond = v
            burst = v * 2
        }
        try number("CAIRN_REQUEST_TIMEOUT") { (v: Double) in requestTimeoutSeconds = v }
        try number("CAIRN_JWKS_REFETCH_SECONDS") { (v: Double) in jwksRefetchSeconds = v }
        try number("CAIRN_FEED_HEARTBEAT_SECONDS") { (v: Double) in feedHeartbeatSeconds = max(0.1, v) }
        try number("CAIRN_MCP_IDLE_SECONDS") { (v: Double) in mcpIdleSeconds = max(0.1, v) }
        if let v = env["CAIRN_RUN_RECOVERY"] {
            guard let policy = Engine.RecoveryPolicy(rawValue: v) else {
                throw CairnError(.invalidArgument, "CAIRN_RUN_RECOVERY is 'interrupt' or 'merge', not '\(v)'")
            }
            runRecovery = policy
        }
        try number("CAIRN_RUN_LEASE_SECONDS") { (v: Double) in runLeaseSeconds = max(1, v) }
        try number("CAIRN_NODE_CACHE_BYTES") { (v: Int) in nodeCacheBytes = max(1 << 20, v) }
        try number("CAIRN_AUTH_FAILURES_PER_SECOND") { (v: Double) in authFailuresPerSecond = max(0, v) }
        try number("CAIRN_AUTH_FAILURE_BURST") { (v: Double) in authFailureBurst = max(1, v) }
        try number("CAIRN_HEAVY_JOBS_PER_CREDENTIAL") { (v: Int) in heavyJobsPerCredential = max(0, v) }
        try number("CAIRN_HEAVY_JOBS_PER_SERVER") { (v: Int) in heavyJobsPerServer = max(0, v) }
    }

    /// The settings a config file may name; any other key is an error.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, data, organization, maxBodyBytes, requestsPerSecond, burst, requestTimeoutSeconds, maxPathBytes, maxPatternBytes,
            jwksRefetchSeconds, feedHeartbeatSeconds,
            mcpIdleSeconds, runRecovery, runLeaseSeconds, databaseURL, databasePasswordFile, corsOrigins, authFailuresPerSecond,
            authFailureBurst, grepSecondsPerRequest, grepSecondsPerSecond, nodeCacheBytes, tlsCertificate, tlsKey, trustedProxies,
            heavyJobsPerCredential, heavyJobsPerServer, agentHosts
    }
}
