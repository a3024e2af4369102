import CairnCompute
import CairnCore
import CairnOntology
import CairnSolve
@_spi(StoreWrites) import CairnStore
import Foundation
import Logging
import Metrics
import Synchronization

/// An authenticated caller acting in one organization, with the why it gave.
/// One call of a run, as the Gateway sees it: which run and step its commits name, and the
/// record that must be committed with them.
package struct RunCall: Sendable {
    package let run: String
    package let step: Int
    package let record: Companion
    /// What the call read and found, noted by the Gateway before it commits a computed result
    /// (Run and Solve with an output), so the record written with that commit says so.
    package let draft: CallDraft

    package init(run: String, step: Int, record: Companion, draft: CallDraft) {
        self.run = run
        self.step = step
        self.record = record
        self.draft = draft
    }
}

/// The inputs and result of a run call, known before its output is committed.
package final class CallDraft: Sendable {
    package struct Noted: Sendable {
        package var reads: [RunInput] = []
        package var readAt: String?
        /// What identifies the answer across executions (see the call record's `result`).
        package var stable: String?
    }

    private let state = Mutex(Noted())

    package init() {}

    package var noted: Noted { state.withLock { $0 } }

    package func note(reads: [RunInput], readAt: String?, stable: String?) {
        state.withLock { $0 = Noted(reads: reads, readAt: readAt, stable: stable) }
    }
}

/// Who is acting, for which organization, and why: made once by `authenticate` and passed to every
/// call, so each decision and record names the same principal.
public struct Caller: Sendable {
    public let principal: Principal
    public let organization: OrganizationRecord
    /// Why the caller acts: recorded on every commit and audit record; required of agents for changes.
    public var reason: String?
    /// The policy the caller was authenticated under: one request decides against one
    /// configuration, and reads the system head once rather than at every decision.
    var snapshot: Policy?
    /// The run call this request is, when an engine run makes it: its commit names the run and
    /// the call, and carries the call's record in the same transaction (see `Companion`).
    package var call: RunCall?

    public init(principal: Principal, organization: OrganizationRecord, reason: String? = nil) {
        self.principal = principal
        self.organization = organization
        self.reason = reason
    }
}

/// Limits every surface shares, each answered with a clear error.
public struct GatewayLimits: Sendable {
    public var requestsPerSecond: Double
    public var burst: Double
    public var maxPathBytes: Int
    public var maxPatternBytes: Int
    /// The least time between two fetches of an identity provider's keys for an unknown `kid`.
    public var jwksRefetchSeconds: Double
    /// Failed authentications allowed per client address: a sustained rate and a burst; past
    /// them the address is refused (429) before any verification.
    public var authFailuresPerSecond: Double
    public var authFailureBurst: Double
    /// The most matching time one Grep may take, and the rate at which a credential's search
    /// time refills (0.5: half of one regex thread, on average, per credential).
    public var grepSecondsPerRequest: Double
    public var grepSecondsPerSecond: Double
    /// Heavy jobs (solves, route batches, matrices) one credential may run at once, and the
    /// server as a whole (0: no bound).
    public var heavyJobsPerCredential: Int
    public var heavyJobsPerServer: Int

    public init(
        requestsPerSecond: Double = 200,
        burst: Double = 400,
        maxPathBytes: Int = 1024,
        maxPatternBytes: Int = 1024,
        jwksRefetchSeconds: Double = 10,
        authFailuresPerSecond: Double = 5,
        authFailureBurst: Double = 60,
        grepSecondsPerRequest: Double = 30,
        grepSecondsPerSecond: Double = 0.5,
        heavyJobsPerCredential: Int = 2,
        heavyJobsPerServer: Int = max(2, ProcessInfo.processInfo.activeProcessorCount)
    ) {
        self.heavyJobsPerCredential = heavyJobsPerCredential
        self.heavyJobsPerServer = heavyJobsPerServer
        self.grepSecondsPerRequest = grepSecondsPerRequest
        self.grepSecondsPerSecond = grepSecondsPerSecond
        self.jwksRefetchSeconds = jwksRefetchSeconds
        self.authFailuresPerSecond = authFailuresPerSecond
        self.authFailureBurst = authFailureBurst
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
        self.maxPathBytes = maxPathBytes
        self.maxPatternBytes = maxPatternBytes
    }
}

/// The one path every action takes (DESIGN.md §4): authenticate → authorize → validate →
/// approval gate → commit with who/what/when/why → audit → publish (Gateway+WritePath.swift).
///
/// Surfaces (HTTP, CLI, MCP) parse and render only; they call the Gateway for every read and
/// every change, so policy is enforced and audited in exactly one place. The Gateway is a small
/// core (authentication, authorization, the write path, the file primitives, projects) and areas
/// that call it, each a type of its own with what only it remembers: `access`, `review`,
/// `ontology`, `compute` and `history`.
public final class Gateway: Sendable {
    public let repository: Repository
    public let feed: ChangeFeed
    public let limits: GatewayLimits
    let logger: Logger
    private let policies = Mutex<[Int64: Policy]>([:])
    // Organizations and their system projects are never deleted or renamed, so a handle found
    // once stays right; caching them saves two store reads on every request.
    private let organizations = Mutex<[String: OrganizationRecord]>([:])
    private let systemProjects = Mutex<[Int64: Project]>([:])
    let workflowProjects = Mutex<[Int64: Project]>([:])
    /// The ontology area's state (see `OntologyArea`).
    let ontologyCaches = OntologyArea.Caches()
    /// The compute area's state (see `ComputeArea`).
    let computeCaches: ComputeArea.Caches
    /// The review area's state (see `ReviewArea`).
    let reviewCaches = ReviewArea.Caches()
    /// Collection summaries by commit (see `FeaturesArea`).
    let featureCaches = FeaturesArea.Caches()
    // Projects, likewise, are never deleted or renamed (no API does it); when one can be, this
    // cache must forget it in the same place.
    private let projects = Mutex<[ProjectKey: Project]>([:])

    struct ProjectKey: Hashable {
        let organization: Int64
        let name: String
    }
    let oidc: OIDCVerifier
    let rateLimiter: RateLimiter
    /// Failed authentications per client address (see `authenticate`).
    let authFailures: RateLimiter
    let floodCounts = FloodCounter(interval: 10)
    /// Seconds of search (Grep) work per credential: refilled at `grepSecondsPerSecond`.
    let grepTime: RateLimiter
    var authFailureRetrySeconds: Int { max(1, Int((1 / max(limits.authFailuresPerSecond, 0.01)).rounded(.up))) }
    let decisions = Counter(label: "cairn_decisions_total")
    let denials = Counter(label: "cairn_denials_total")

    func authFailureCounter(_ reason: String) -> Counter {
        Counter(label: "cairn_auth_failures_total", dimensions: [("reason", reason)])
    }

    public init(repository: Repository, limits: GatewayLimits = GatewayLimits(), logger: Logger = Logger(label: "cairn.gateway")) {
        self.repository = repository
        self.limits = limits
        self.logger = logger
        self.feed = ChangeFeed(storage: repository.storage)
        self.oidc = OIDCVerifier(logger: logger, refetchInterval: limits.jwksRefetchSeconds)
        self.rateLimiter = RateLimiter(rate: limits.requestsPerSecond, burst: limits.burst)
        self.authFailures = RateLimiter(rate: limits.authFailuresPerSecond, burst: limits.authFailureBurst)
        self.grepTime = RateLimiter(rate: limits.grepSecondsPerSecond, burst: limits.grepSecondsPerRequest * 2)
        self.computeCaches = ComputeArea.Caches(limits: limits)
    }

    /// Configuration files are written sorted and indented, so their diffs read well.
    static let configEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return e
    }()

    var storage: any Storage { repository.storage }

    /// Whether this server can serve: the store answers and its schema is current.
    public func checkReady() async throws {
        do {
            try await storage.checkReady()
        } catch let e as CairnError {
            throw e
        } catch {
            throw CairnError(.storeUnavailable, "the store does not answer")
        }
    }

    // MARK: Organizations and policy

    /// The organization of that name; nil when absent (callers answer exactly as for a bad credential).
    func organization(named name: String) async throws -> OrganizationRecord? {
        if let known = organizations.withLock({ $0[name] }) { return known }
        let found = try await storage.organization(named: name)
        if let found { organizations.withLock { $0[name] = found } }
        return found
    }

    func systemProject(_ org: OrganizationRecord) async throws -> Project {
        if let known = systemProjects.withLock({ $0[org.id] }) { return known }
        let project = try await openSystemProject(org)
        systemProjects.withLock { $0[org.id] = project }
        return project
    }

    private func openSystemProject(_ org: OrganizationRecord) async throws -> Project {
        do {
            return try await repository.project(Tenancy.systemProject, organization: org.id)
        } catch let e as CairnError where e.code == .projectNotFound {
            _ = try await Tenancy.ensure(org.name, repository: repository)
            return try await repository.project(Tenancy.systemProject, organization: org.id)
        }
    }

    /// The organization's policy as of its system project's current head; recompiled only when
    /// the access configuration has changed.
    public func policy(_ org: OrganizationRecord) async throws -> Policy {
        let system = try await systemProject(org)
        let head = try await system.resolve("main").commit
        if let cached = policies.withLock({ $0[org.id] }), cached.config.commit == head { return cached }
        let policy = Policy(try await AccessConfig.load(from: system, at: head.hex))
        policies.withLock { $0[org.id] = policy }
        return policy
    }

    /// A caller for the command line on this machine (see `Principal.local`).
    public func localCaller(organization: OrganizationRecord, name: String, reason: String?) async throws -> Caller {
        var caller = Caller(principal: .local(name), organization: organization, reason: reason)
        caller.snapshot = try await policy(organization)
        return caller
    }

    /// The policy the caller's request decides against (see `Caller.snapshot`).
    func policy(for caller: Caller) async throws -> Policy {
        if let snapshot = caller.snapshot { return snapshot }
        return try await policy(caller.organization)
    }

    /// The policy as it was at `timeMillis`: "who could do what at time T".
    public func policy(_ org: OrganizationRecord, atMillis timeMillis: Millis) async throws -> Policy {
        let system = try await systemProject(org)
        return Policy(try await AccessConfig.load(from: system, at: "main@\(Clock.rfc3339(timeMillis))"))
    }

    /// Opens a user project of the caller's organization (system projects answer as absent).
    package func project(_ caller: Caller, _ name: String) async throws -> Project {
        guard Tenancy.isUserProject(name) else { throw Self.projectNotFound(name) }
        let key = ProjectKey(organization: caller.organization.id, name: name)
        if let known = projects.withLock({ $0[key] }) { return known }
        do {
            let project = try await repository.project(name, organization: caller.organization.id)
            projects.withLock { $0[key] = project }
            return project
        } catch let e as CairnError where e.code == .projectNotFound {
            throw Self.projectNotFound(name)
        }
    }

    func checkPattern(_ pattern: String) throws {
        if pattern.utf8.count > limits.maxPatternBytes {
            throw CairnError(
                .invalidArgument,
                "a pattern may be at most \(limits.maxPatternBytes) bytes",
                details: ["limit": String(limits.maxPatternBytes)]
            )
        }
    }
}
