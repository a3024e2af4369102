import CairnSolve
import Synchronization

/// The compute area: Run (geo-math) and Solve (optimization) over the world model. It keeps what
/// only compute uses (road sets and their networks, the solves running, the heavy-job slots) and
/// reaches the world model only through the core: `open` authorizes before anything is read, and
/// a result written as output goes down the write path like any other change.
public struct ComputeArea: Sendable {
    /// The Gateway whose core this area calls.
    let core: Gateway

    var caches: Caches { core.computeCaches }

    /// What the compute area remembers between calls; one per Gateway.
    final class Caches: Sendable {
        /// Road sets and the networks built from them (see `roadNetwork`).
        let roads = RoadCache()
        /// The solves running now, by name, with the switch that cancels each.
        let runningSolves = Mutex<[String: (RunningSolve, SolveControl)]>([:])
        /// Heavy jobs running now, per credential and in all (see `WorkSlots`).
        let heavyJobs: WorkSlots

        init(limits: GatewayLimits) {
            heavyJobs = WorkSlots(perCredential: limits.heavyJobsPerCredential, server: limits.heavyJobsPerServer)
        }
    }
}

extension Gateway {
    /// Run and Solve (see `ComputeArea`).
    public var compute: ComputeArea { ComputeArea(core: self) }
}
