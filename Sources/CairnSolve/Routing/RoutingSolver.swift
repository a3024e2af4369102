import CairnCompute
import Foundation

/// The answer to a routing problem: each vehicle's route with its schedule, and any stop that
/// could not be placed.
public struct RoutingSolution: Sendable, Codable, Equatable {
    /// A stop on a route, with when the vehicle arrives and leaves.
    public struct Visit: Sendable, Codable, Equatable {
        public let stop: String
        /// When the vehicle gets there, and when service begins (later if it came early).
        public let arrival: Double
        public let begin: Double
        /// The load delivered so far, this stop included.
        public let load: Double
    }

    /// One vehicle's visits in order, with its load, cost and duration.
    public struct VehicleRoute: Sendable, Codable, Equatable {
        public let vehicle: String
        public let visits: [Visit]
        public let cost: Double
        public let returnTime: Double
        public let load: Double
    }

    public let routes: [VehicleRoute]
    public let unserved: [String]
    public let cost: Double
    public let iterations: Int
    /// Why the search ended: its iteration budget, the time limit, or a cancel.
    public let stoppedBy: String
}

/// Vehicle routing by ruin and recreate (after Christiaens & Vanden Berghe's SISR, "Slack
/// Induction by String Removals", Transportation Science 2020): remove strings of nearby stops
/// from a few routes, put them back one by one at their cheapest feasible place, and accept the
/// result under simulated annealing. Time windows are checked in O(1) per insertion from each
/// route's earliest service times and latest feasible ones.
///
/// Written here because no Swift package in the mirror solves vehicle routing. Deterministic for
/// a seed and an iteration budget; the time limit and cancel end it early.
public enum RoutingSolver {
    /// Searches by ruin and recreate from a seed; the same seed and iteration budget give the same
    /// routes.
    public static func solve(
        _ problem: RoutingProblem,
        seed: UInt64 = 1,
        iterations: Int? = nil,
        control: SolveControl
    ) throws(SolveError)
        -> (solution: RoutingSolution, result: SolveResult)
    {
        try problem.validate()
        let started = DispatchTime.now().uptimeNanoseconds
        var engine = Engine(problem, seed: seed)
        let (best, done, stoppedBy) = engine.search(iterations: iterations, control: control, started: started)
        let solution = engine.solution(best, iterations: done, stoppedBy: stoppedBy)
        var result = SolveResult(status: solution.unserved.isEmpty ? .feasible : .infeasible, solver: "cairn-routing (ruin and recreate)")
        if !solution.unserved.isEmpty {
            result.message =
                "no feasible place was found for \(solution.unserved.count) stop(s): "
                + "\(solution.unserved.prefix(10).joined(separator: ", ")) (a heuristic: not a proof of infeasibility)"
        }
        result.objective = solution.cost
        result.solveTime = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        for r in solution.routes where !r.visits.isEmpty {
            result.values["route.\(r.vehicle).cost"] = r.cost
            result.values["route.\(r.vehicle).stops"] = Double(r.visits.count)
        }
        result.drivers = SolveResult.drivers(
            coefficients: Dictionary(
                uniqueKeysWithValues: solution.routes.filter { !$0.visits.isEmpty }.map { ("route.\($0.vehicle).cost", 1.0) }
            ),
            values: result.values
        )
        return (solution, result)
    }

    struct Route {
        let vehicle: Int
        var stops: [Int] = []
        /// Index 0 is the departure, 1…n the stops, n+1 the return: when service begins, and the
        /// latest it may begin with everything after it still on time.
        var begin: [Double] = []
        var latest: [Double] = []
        var load = 0.0
        var cost = 0.0
    }

    struct State {
        var routes: [Route]
        var unassigned: [Int]
        var cost: Double
    }

    struct Engine {
        let p: RoutingProblem
        let n: Int, m: Int
        let dist: [Double], time: [Double]
        let loc: [Int], demand: [Double], service: [Double], early: [Double], late: [Double]
        /// Per stop, the other stops by increasing distance.
        let near: [[Int]]
        let penalty: Double
        var rng: SplitMix64

        init(_ p: RoutingProblem, seed: UInt64) {
            self.p = p
            n = p.stops.count
            m = p.distances.count
            dist = p.distances.flatMap { $0 }
            time = (p.times ?? p.distances).flatMap { $0 }
            loc = p.stops.map(\.location)
            demand = p.stops.map(\.demand)
            service = p.stops.map(\.service)
            early = p.stops.map { $0.earliest ?? -.infinity }
            late = p.stops.map { $0.latest ?? .infinity }
            let d = dist
            let l = loc
            let count = m
            near = (0..<p.stops.count).map { s in
                (0..<l.count).filter { $0 != s }.sorted { d[l[s] * count + l[$0]] < d[l[s] * count + l[$1]] }
            }
            penalty = 2 * (p.distances.map { $0.max() ?? 0 }.max() ?? 0) * Double(max(1, p.stops.count)) + 1e6
            rng = SplitMix64(state: seed)
        }

        @inline(__always) func d(_ a: Int, _ b: Int) -> Double { dist[a * m + b] }
        @inline(__always) func t(_ a: Int, _ b: Int) -> Double { time[a * m + b] }

        func update(_ r: inout Route) {
            let v = p.vehicles[r.vehicle]
            let count = r.stops.count
            r.begin = [Double](repeating: 0, count: count + 2)
            r.latest = [Double](repeating: 0, count: count + 2)
            var now = v.shiftStart
            var at = v.depot
            var busy = 0.0
            var cost = 0.0
            var load = 0.0
            r.begin[0] = now
            for (k, s) in r.stops.enumerated() {
                now = max(now + busy + t(at, loc[s]), early[s])
                cost += d(at, loc[s])
                load += demand[s]
                r.begin[k + 1] = now
                at = loc[s]
                busy = service[s]
            }
            r.begin[count + 1] = now + busy + t(at, v.depot)
            cost += d(at, v.depot)
            r.latest[count + 1] = v.returnBy
            var next = v.depot
            for k in stride(from: count, through: 1, by: -1) {
                let s = r.stops[k - 1]
                r.latest[k] = min(late[s], r.latest[k + 1] - t(loc[s], next) - service[s])
                next = loc[s]
            }
            r.latest[0] = r.latest[1] - (count > 0 ? t(v.depot, loc[r.stops[0]]) : 0)
            r.load = load
            r.cost = cost
        }

        /// The cheapest feasible place for stop u: (added cost, route, position), or nil.
        mutating func cheapest(_ u: Int, in state: State, blink: Double) -> (Double, Int, Int)? {
            var best: (Double, Int, Int)?
            for (ri, r) in state.routes.enumerated() {
                let v = p.vehicles[r.vehicle]
                if let cap = v.capacity, r.load + demand[u] > cap + 1e-9 { continue }
                let count = r.stops.count
                for k in 0...count {
                    if blink > 0 && Double(rng.next() % 1000) < blink * 1000 { continue }
                    let prev = k == 0 ? v.depot : loc[r.stops[k - 1]]
                    let busy = k == 0 ? 0 : service[r.stops[k - 1]]
                    let next = k == count ? v.depot : loc[r.stops[k]]
                    let delta = d(prev, loc[u]) + d(loc[u], next) - d(prev, next)
                    if let best, delta >= best.0 { continue }
                    let bu = max(r.begin[k] + busy + t(prev, loc[u]), early[u])
                    if bu > late[u] { continue }
                    let arrive = bu + service[u] + t(loc[u], next)
                    let nextBegin = k == count ? arrive : max(arrive, early[r.stops[k]])
                    if nextBegin > r.latest[k + 1] + 1e-9 { continue }
                    best = (delta, ri, k)
                }
            }
            return best
        }

        mutating func recreate(_ state: inout State, _ removed: [Int], blink: Double) {
            var order = removed
            switch rng.next() % 11 {
            case 0..<4: order.shuffle(using: &rng)
            case 4..<8: order.sort { demand[$0] != demand[$1] ? demand[$0] > demand[$1] : $0 < $1 }
            case 8..<10: order.sort { d(p.vehicles[0].depot, loc[$0]) > d(p.vehicles[0].depot, loc[$1]) }
            default: order.sort { d(p.vehicles[0].depot, loc[$0]) < d(p.vehicles[0].depot, loc[$1]) }
            }
            for u in order {
                if let (delta, ri, k) = cheapest(u, in: state, blink: blink) {
                    state.routes[ri].stops.insert(u, at: k)
                    update(&state.routes[ri])
                    state.cost += delta
                } else {
                    state.unassigned.append(u)
                    state.cost += penalty
                }
            }
        }

        /// Removes strings of consecutive stops from a few routes near a random stop.
        mutating func ruin(_ state: inout State) -> [Int] {
            var routeOf = [Int](repeating: -1, count: n)
            for (ri, r) in state.routes.enumerated() { for s in r.stops { routeOf[s] = ri } }
            let routed = (0..<n).filter { routeOf[$0] >= 0 }
            guard !routed.isEmpty else { return [] }
            let used = state.routes.filter { !$0.stops.isEmpty }
            let average = Double(routed.count) / Double(max(1, used.count))
            let maxString = min(10.0, average)
            let meanRemoved = min(10.0, Double(routed.count))
            let maxStrings = 4 * meanRemoved / (1 + maxString) - 1
            let strings = Int(Double(rng.next() % 1_000_000) / 1_000_000 * maxStrings) + 1
            let seed = routed[Int(rng.next() % UInt64(routed.count))]
            var removed: [Int] = []
            var ruined = Set<Int>()
            for c in [seed] + near[seed] where ruined.count < strings {
                let ri = routeOf[c]
                guard ri >= 0, !ruined.contains(ri), let at = state.routes[ri].stops.firstIndex(of: c) else { continue }
                let count = state.routes[ri].stops.count
                let length = Int(rng.next() % UInt64(max(1, Int(min(maxString, Double(count)))))) + 1
                let start = max(0, min(count - length, at - Int(rng.next() % UInt64(length))))
                removed += state.routes[ri].stops[start..<(start + length)]
                state.routes[ri].stops.removeSubrange(start..<(start + length))
                let before = state.routes[ri].cost
                update(&state.routes[ri])
                state.cost += state.routes[ri].cost - before
                ruined.insert(ri)
            }
            return removed
        }

        mutating func search(iterations: Int?, control: SolveControl, started: UInt64) -> (State, Int, String) {
            var current = State(routes: p.vehicles.indices.map { Route(vehicle: $0) }, unassigned: [], cost: 0)
            for i in current.routes.indices { update(&current.routes[i]) }
            current.cost = current.routes.reduce(0) { $0 + $1.cost }
            recreate(&current, Array(0..<n), blink: 0)
            var best = current
            let budget = iterations ?? Int.max
            let deadline = control.timeLimit
            // Temperatures relative to the average arc of the first solution.
            let arcs = Double(n + current.routes.filter { !$0.stops.isEmpty }.count)
            let average = max(1e-9, current.routes.reduce(0) { $0 + $1.cost } / max(1, arcs))
            let t0 = 0.1 * average
            let tf = 0.001 * average
            var done = 0
            var stoppedBy = "iterations"
            while done < budget && n > 0 {
                if done & 31 == 0 {
                    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                    if control.isCancelled {
                        stoppedBy = "cancelled"
                        break
                    }
                    if elapsed >= deadline {
                        stoppedBy = "time_limit"
                        break
                    }
                }
                let progress =
                    iterations != nil
                    ? Double(done) / Double(budget)
                    : min(1, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 / deadline)
                let temperature = t0 * pow(tf / t0, progress)
                var candidate = current
                let pending = candidate.unassigned
                candidate.cost -= Double(pending.count) * penalty
                candidate.unassigned = []
                let removed = ruin(&candidate)
                recreate(&candidate, removed + pending, blink: 0.01)
                let u = max(1e-12, Double(rng.next() % 1_000_000 + 1) / 1_000_001)
                if candidate.cost < current.cost - temperature * log(u) {
                    current = candidate
                    if current.cost < best.cost - 1e-9 { best = current }
                }
                done += 1
            }
            return (best, done, stoppedBy)
        }

        func solution(_ s: State, iterations: Int, stoppedBy: String) -> RoutingSolution {
            var routes: [RoutingSolution.VehicleRoute] = []
            var total = 0.0
            for r in s.routes {
                let v = p.vehicles[r.vehicle]
                var visits: [RoutingSolution.Visit] = []
                var now = v.shiftStart
                var at = v.depot
                var busy = 0.0
                var load = 0.0
                for (k, stop) in r.stops.enumerated() {
                    let arrival = now + busy + t(at, loc[stop])
                    load += demand[stop]
                    visits.append(.init(stop: p.stops[stop].id, arrival: arrival, begin: r.begin[k + 1], load: load))
                    now = r.begin[k + 1]
                    at = loc[stop]
                    busy = service[stop]
                }
                routes.append(.init(vehicle: v.id, visits: visits, cost: r.cost, returnTime: r.begin[r.stops.count + 1], load: r.load))
                total += r.cost
            }
            return RoutingSolution(
                routes: routes,
                unserved: s.unassigned.sorted().map { p.stops[$0].id },
                cost: total,
                iterations: iterations,
                stoppedBy: stoppedBy
            )
        }
    }
}
