import CairnCompute
import Foundation
import Testing

@testable import CairnSolve

/// Vehicle routing against Google OR-Tools (PyPI ortools, in the test virtualenv) on generated
/// instances of 20, 50, 100 and 200 customers, each given the same time limit; every route is
/// checked by an independent checker here.
@Suite struct RoutingSolveTests {
    static func instance(_ customers: Int, seed: UInt64) -> RoutingProblem { RoutingProblem.generated(customers: customers, seed: seed) }

    /// The independent checker: every customer served exactly once; each route's load within
    /// capacity; service begins inside each window, after the travel before it; back in time.
    static func check(_ p: RoutingProblem, _ s: RoutingSolution) -> String? {
        var served: [String: Int] = [:]
        let index = Dictionary(uniqueKeysWithValues: p.stops.map { ($0.id, $0) })
        var total = 0.0
        for r in s.routes {
            guard let v = p.vehicles.first(where: { $0.id == r.vehicle }) else { return "unknown vehicle \(r.vehicle)" }
            var now = v.shiftStart
            var at = v.depot
            var busy = 0.0
            var load = 0.0
            var cost = 0.0
            for visit in r.visits {
                guard let stop = index[visit.stop] else { return "unknown stop \(visit.stop)" }
                served[stop.id, default: 0] += 1
                now = max(now + busy + p.distances[at][stop.location], stop.earliest ?? 0)
                if now > (stop.latest ?? .infinity) + 1e-9 {
                    return "\(stop.id) begins at \(now), after its window closes at \(stop.latest!)"
                }
                if abs(now - visit.begin) > 1e-6 { return "\(stop.id): the schedule says \(visit.begin), the checker \(now)" }
                cost += p.distances[at][stop.location]
                load += stop.demand
                at = stop.location
                busy = stop.service
            }
            now += busy + p.distances[at][v.depot]
            cost += p.distances[at][v.depot]
            if load > (v.capacity ?? .infinity) + 1e-9 { return "\(r.vehicle) carries \(load) over its capacity" }
            if now > (v.shiftEnd ?? .infinity) + 1e-9 { return "\(r.vehicle) is back at \(now), after its shift" }
            if abs(cost - r.cost) > 1e-6 { return "\(r.vehicle): cost \(r.cost) vs the checker's \(cost)" }
            total += cost
        }
        if let twice = served.first(where: { $0.value != 1 }) { return "\(twice.key) served \(twice.value) times" }
        if served.count != p.stops.count { return "\(p.stops.count - served.count) customers not served" }
        return abs(total - s.cost) > 1e-6 ? "total \(s.cost) vs the checker's \(total)" : nil
    }

    @Test func withinFivePercentOfORToolsOnAverage() throws {
        let seconds = 2.0
        let problems = [20, 50, 100, 200].map { Self.instance($0, seed: UInt64($0)) }
        let query = problems.map(\.referenceQuery)
        let theirs = try Python.run("vrp_check.py", ["instances": query, "seconds": Int(seconds)])["costs"] as? [Double] ?? []
        #expect(theirs.count == problems.count)
        var ratios: [Double] = []
        for (p, reference) in zip(problems, theirs) {
            let (ours, result) = try RoutingSolver.solve(p, seed: 7, control: SolveControl(timeLimit: seconds))
            #expect(Self.check(p, ours) == nil, "\(p.stops.count) customers: \(Self.check(p, ours) ?? "")")
            #expect(result.status == .feasible && ours.unserved.isEmpty)
            ratios.append(ours.cost / reference)
            print("routing \(p.stops.count) customers: cairn \(ours.cost) (\(ours.iterations) iterations) vs OR-Tools \(reference)")
        }
        let mean = ratios.reduce(0, +) / Double(max(1, ratios.count))
        #expect(mean <= 1.05, "mean cost ratio \(mean): \(ratios)")
    }

    @Test func deterministicForASeedAndClearAboutWhatItCannotServe() throws {
        let p = Self.instance(30, seed: 3)
        let a = try RoutingSolver.solve(p, seed: 11, iterations: 500, control: SolveControl(timeLimit: 60))
        let b = try RoutingSolver.solve(p, seed: 11, iterations: 500, control: SolveControl(timeLimit: 60))
        #expect(a.solution == b.solution && a.solution.stoppedBy == "iterations")
        #expect(Self.check(p, a.solution) == nil)
        // A stop whose window closes before a vehicle can get there is reported, not dropped silently.
        var late = p
        late.stops.append(.init(id: "unreachable", location: 1, demand: 1, service: 0, earliest: 0, latest: 0))
        late.stops[late.stops.count - 1].location = 5
        let r = try RoutingSolver.solve(late, seed: 1, iterations: 100, control: SolveControl())
        #expect(
            r.result.status == .infeasible && r.solution.unserved == ["unreachable"] && r.result.message?.contains("unreachable") == true
        )
        // Malformed problems are refused with the reason.
        var bad = p
        bad.stops[0].location = 999
        #expect { _ = try RoutingSolver.solve(bad, control: SolveControl()) } throws: {
            ($0 as? SolveError)?.message.contains("outside") == true
        }
    }
}
