import CairnCore
import CairnGovernance
@_spi(StoreWrites) import CairnStore
import Foundation

/// Runs belong to the process holding their session, shown by a lease each: renewed while the
/// process lives, taken over by another when it dies. Several servers on one PostgreSQL store
/// thus never end each other's live runs, and no run stays `running` once nobody holds it.
extension Engine {
    static let leasePrefix = "run:"

    /// `run:ORG/PROJECT/RUN`: the organization by number (names are not needed to find it again).
    static func leaseName(organization: Int64, project: String, run: String) -> String {
        "\(leasePrefix)\(organization)/\(project)/\(run)"
    }

    /// Renews this process's leases and sweeps up runs nobody holds, now and then every third of
    /// a lease, until cancelled. Servers run it for their whole life; `cairn mcp` for its session's.
    public func keepLeases() async {
        while !Task.isCancelled {
            await renewAndSweep()
            do { try await Task.sleep(for: .milliseconds(max(100, leaseMillis / 3))) } catch { return }
        }
    }

    /// One round: renew, then recover what is orphaned. Failures are logged and retried next round.
    public func renewAndSweep() async {
        do {
            try await renew()
        } catch {
            logger.warning("run leases could not be renewed", metadata: ["error": "\(error)"])
        }
        do {
            try await sweep()
        } catch {
            logger.warning("the sweep for orphaned runs failed", metadata: ["error": "\(error)"])
        }
    }

    /// Extends this process's leases; a session whose lease another server took over meanwhile
    /// (this one could not renew in time: frozen, or cut off from the store) is over here.
    func renew() async throws {
        let started = DispatchTime.now().uptimeNanoseconds
        let before = held.withLock { $0 }
        let renewed = try await leases.renewLeases(holder: holder.id, ttlMillis: leaseMillis)
        for lease in before.subtracting(renewed) {
            guard held.withLock({ $0.contains(lease) }), let session = session(holding: lease) else { continue }
            logger.error(
                "a run's lease was taken over while this server could not renew it; its session ends",
                metadata: ["run": "\(session.runID)"]
            )
            await session.lapse("its lease lapsed while its server was cut off from the store, and another server ended it")
            await settle(session)
        }
        // Only now: a call that finds the renewal fresh must also find its lapse done.
        renewedAt.store(started, ordering: .relaxed)
    }

    /// Before a call acts: leases not renewed for half their life are renewed first, so a
    /// process that was frozen or cut off learns that it lost a run before acting for it. (The
    /// keeper renews every third of a lease, so this costs nothing while all is well.)
    func confirmLeases() async throws {
        let age = DispatchTime.now().uptimeNanoseconds &- renewedAt.load(ordering: .relaxed)
        guard age > UInt64(leaseMillis) * 500_000 else { return }
        try await renew()
    }

    /// Ends every run whose lease nobody holds any more: expired (its holder stopped renewing),
    /// held by a process of this machine that is gone, or this process's own whose end could
    /// not be recorded before.
    func sweep() async throws {
        var after: String?
        while true {
            let page = try await leases.leases(prefix: Self.leasePrefix, after: after, limit: 200)
            for (lease, expired) in page {
                guard !held.withLock({ $0.contains(lease.name) }) else { continue }
                if lease.holder != holder.id {
                    let dead = !expired && LeaseHolder(id: lease.holder).isCertainlyDead
                    guard expired || dead else { continue }
                    // Compare-and-take: another sweeper, or the holder renewing, may come first.
                    guard
                        try await leases.takeLease(
                            lease.name,
                            holder: holder.id,
                            ttlMillis: leaseMillis,
                            replacing: dead ? lease.holder : nil
                        )
                    else { continue }
                }
                held.withLock { _ = $0.insert(lease.name) }
                logger.info(
                    "taking over an orphaned run's lease",
                    metadata: ["lease": "\(lease.name)", "holder": "\(lease.holder)", "expired": "\(expired)"]
                )
                await recoverOrphan(lease, expired: expired)
            }
            guard page.count == 200, let last = page.last else { return }
            after = last.lease.name
        }
    }

    /// Ends one orphaned run by the recovery policy and gives its lease up; on failure keeps
    /// the lease (renewed here) for the next sweep to try again.
    private func recoverOrphan(_ lease: Lease, expired: Bool) async {
        defer { _ = held.withLock { $0.remove(lease.name) } }
        let parts = lease.name.dropFirst(Self.leasePrefix.count).split(separator: "/", maxSplits: 2).map(String.init)
        do {
            guard parts.count == 3, let number = Int64(parts[0]),
                let organization = try await gateway.repository.storage.organization(id: number)
            else {
                try await leases.releaseLease(lease.name, holder: holder.id)
                return
            }
            let run: AgentRun
            do {
                run = try await gateway.agentRunHeader(organization, project: parts[1], id: parts[2])
            } catch let e as CairnError where e.code == .notFound || e.code == .projectNotFound {
                // A lease taken just before its run's start failed: nothing to end.
                try await leases.releaseLease(lease.name, holder: holder.id)
                return
            }
            if run.status == .running {
                let why =
                    lease.holder == holder.id
                    ? "its session ended on this server, whose first attempt to record the end failed"
                    : expired
                        ? "the server holding its session stopped renewing its lease (it stopped or was cut off)"
                        : "the server holding its session is gone"
                let ended = try await recover(organization, run: run, why: why)
                logger.notice(
                    "ended an orphaned run",
                    metadata: [
                        "run": "\(run.id)", "project": "\(run.project)", "status": "\(ended.status.rawValue)", "holder": "\(lease.holder)",
                    ]
                )
            }
            try await leases.releaseLease(lease.name, holder: holder.id)
        } catch {
            logger.error(
                "an orphaned run could not be ended; the next sweep tries again",
                metadata: ["lease": "\(lease.name)", "error": "\(error)"]
            )
        }
    }
}
