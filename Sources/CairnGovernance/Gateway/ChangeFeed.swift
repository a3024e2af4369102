import CairnCore
import CairnSolve
import CairnStore
import Foundation
import Synchronization

/// A change on a branch, as the feed announces it: enough for a surface to re-render.
public struct ChangeEvent: Sendable, Codable, Equatable {
    public let project: String
    public let branch: String
    public let commit: String?
    public var paths: [String]
    public let actor: String
    public let action: String
    public let time: String
    /// The merge request a `merge_request.*` event is about.
    public var mergeRequest: Int? = nil
    /// The queued request an `approval.*` event is about.
    public var approval: String? = nil
    /// The agent run an `agent.run.*` event is about, and for a call, its number, tool and outcome.
    public var run: String? = nil
    public var call: Int? = nil
    public var tool: String? = nil
    public var outcome: String? = nil
    /// The solve a `solve.progress` event is about, and where its search stands.
    public var solve: String? = nil
    public var progress: SolveResult.Progress? = nil

    package init(
        project: String,
        branch: String,
        commit: String?,
        paths: [String],
        actor: String,
        action: String,
        time: String,
        mergeRequest: Int? = nil,
        approval: String? = nil,
        run: String? = nil,
        call: Int? = nil,
        tool: String? = nil,
        outcome: String? = nil
    ) {
        (self.project, self.branch, self.commit, self.paths, self.actor, self.action, self.time) = (
            project, branch, commit, paths, actor, action, time
        )
        (self.mergeRequest, self.approval, self.run, self.call, self.tool, self.outcome) = (
            mergeRequest, approval, run, call, tool, outcome
        )
    }
}

/// Fans committed changes out to subscribers of one organization's project. A subscriber
/// that falls more than `buffer` events behind loses the oldest (it can re-read the log).
///
/// On a store several servers share, each event is also broadcast through the store, and
/// `relay` delivers the other servers' events here: a feed announces commits made through any
/// server. The broadcast goes out after the commit, in publishing order, from one sender.
public final class ChangeFeed: Sendable {
    private struct Key: Hashable {
        let org: Int64
        let project: String
    }
    /// What one server tells the others: its name, so it can drop its own messages when they
    /// come back, and the event with its organization.
    private struct Relayed: Codable {
        let origin: String
        let organization: Int64
        let event: ChangeEvent
    }
    private let subscribers = Mutex<[Key: [Int: AsyncStream<ChangeEvent>.Continuation]]>([:])
    private let observers = Mutex<[Int: AsyncStream<(Int64, ChangeEvent)>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)
    private let buffer: Int
    private let origin = UUID().uuidString
    private let outbox: AsyncStream<[UInt8]>.Continuation?

    public init(buffer: Int = 1000, storage: (any Storage)? = nil) {
        self.buffer = buffer
        if let storage, storage.isShared {
            let (messages, outbox) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
            self.outbox = outbox
            Task {
                for await message in messages { try? await storage.broadcast(message) }
            }
        } else {
            outbox = nil
        }
    }

    deinit { outbox?.finish() }

    /// Delivers the events other servers sharing `storage` broadcast, until cancelled;
    /// `heard` sees each first, and is awaited (the Gateway refreshes what the event made
    /// stale before anyone here can act on the event).
    func relay(from storage: any Storage, heard: (Int64, ChangeEvent) async -> Void) async {
        let decoder = JSONDecoder()
        for await message in storage.broadcasts() {
            guard let relayed = try? decoder.decode(Relayed.self, from: Data(message)), relayed.origin != origin else { continue }
            await heard(relayed.organization, relayed.event)
            deliver(organization: relayed.organization, relayed.event)
        }
    }

    /// How many feeds are open now, for `/metrics`.
    public var subscriberCount: Int { subscribers.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// A stream of one project's events; the Gateway filters it to what each subscriber may read.
    public func subscribe(organization: Int64, project: String) -> AsyncStream<ChangeEvent> {
        let key = Key(org: organization, project: project)
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<ChangeEvent>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
        subscribers.withLock { $0[key, default: [:]][id] = continuation }
        continuation.onTermination = { [weak self] _ in
            self?.subscribers.withLock { _ = $0[key]?.removeValue(forKey: id) }
        }
        return stream
    }

    /// Every event this server publishes itself (not those relayed from other servers), with
    /// its organization: what the workflow scheduler reacts to, each event on one server only.
    public func observeLocal() -> AsyncStream<(Int64, ChangeEvent)> {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<(Int64, ChangeEvent)>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
        observers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in self?.observers.withLock { _ = $0.removeValue(forKey: id) } }
        return stream
    }

    package func publish(organization: Int64, _ event: ChangeEvent) {
        deliver(organization: organization, event)
        for c in observers.withLock({ Array($0.values) }) { c.yield((organization, event)) }
        if let outbox, let message = try? JSONEncoder().encode(Relayed(origin: origin, organization: organization, event: event)) {
            outbox.yield(Array(message))
        }
    }

    private func deliver(organization: Int64, _ event: ChangeEvent) {
        let targets = subscribers.withLock { Array(($0[Key(org: organization, project: event.project)] ?? [:]).values) }
        for c in targets { c.yield(event) }
    }
}

extension Gateway {
    /// Runs, until cancelled, the part of this server that hears the others sharing its store:
    /// their events reach this server's feeds, and what they make stale here is refreshed first
    /// (a merge request approved through another server is then known here when a commit
    /// voids it). A store only this process serves has nothing to hear: this returns at once.
    public func followOtherServers() async {
        await feed.relay(from: storage) { organization, event in
            if event.mergeRequest != nil { await self.review.refreshApprovedSources(organization: organization, project: event.project) }
        }
    }

    /// The change feed of one project, filtered to what the caller may read.
    public func changes(_ caller: Caller, project name: String) async throws -> AsyncStream<ChangeEvent> {
        _ = try await open(caller, name, .read, action: "feed.subscribe")
        let source = feed.subscribe(organization: caller.organization.id, project: name)
        let gateway = self
        return AsyncStream { continuation in
            let task = Task {
                for await event in source {
                    guard let policy = try? await gateway.policy(caller.organization),
                        policy.decide(caller.principal, .read, AccessTarget(project: name, branch: event.branch)).allowed
                    else { continue }
                    var paths = event.paths
                    if policy.hasPathRules(caller.principal, project: name) {
                        paths = paths.filter {
                            policy.decide(caller.principal, .read, AccessTarget(project: name, branch: event.branch, path: $0)).allowed
                        }
                        if paths.isEmpty && !event.paths.isEmpty { continue }
                    }
                    // The same event, with only the paths this caller may see.
                    var visible = event
                    visible.paths = paths
                    continuation.yield(visible)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
