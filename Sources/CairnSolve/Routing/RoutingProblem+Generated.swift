import CairnCompute
import Foundation

extension RoutingProblem {
    /// A generated Solomon-style instance, for tests and benchmarks: customers in a 100 × 100
    /// square, the depot in the middle, integer distances (travel time = distance), service 10,
    /// windows of 60–240 that a direct trip from the depot can always meet, demands 1–10,
    /// capacity 50, one vehicle per four customers (at least three), back by 1,000.
    public static func generated(customers: Int, seed: UInt64) -> RoutingProblem {
        var rng = SplitMix64(state: seed)
        let points = [(50.0, 50.0)] + (0..<customers).map { _ in (Double(rng.next() % 101), Double(rng.next() % 101)) }
        let distances = points.map { a in points.map { b in hypot(a.0 - b.0, a.1 - b.1).rounded() } }
        let horizon = 1000.0
        let stops = (0..<customers).map { i -> Stop in
            let out = distances[0][i + 1]
            let back = distances[i + 1][0]
            let width = Double(60 + rng.next() % 181)
            let latestStart = horizon - back - 10
            let centre = out + Double(rng.next() % UInt64(max(1, latestStart - out)))
            return Stop(
                id: "c\(i + 1)",
                location: i + 1,
                demand: Double(1 + rng.next() % 10),
                service: 10,
                earliest: max(out, (centre - width / 2).rounded()),
                latest: min(latestStart, (centre + width / 2).rounded())
            )
        }
        let vehicles = (0..<max(3, customers / 4)).map { Vehicle(id: "v\($0 + 1)", capacity: 50, shiftEnd: horizon) }
        return RoutingProblem(distances: distances, stops: stops, vehicles: vehicles)
    }

    /// The problem as OR-Tools' routing reference reads it (integers; node 0 the depot).
    public var referenceQuery: [String: Any] {
        [
            "distances": distances.map { $0.map { Int($0) } }, "depot": vehicles.first?.depot ?? 0,
            "stops": stops.map {
                [
                    "location": $0.location, "demand": Int($0.demand), "service": Int($0.service), "earliest": Int($0.earliest ?? 0),
                    "latest": Int($0.latest ?? 1e9),
                ]
            },
            "vehicles": vehicles.map { ["capacity": Int($0.capacity ?? 1e9), "returnBy": Int($0.returnBy.isFinite ? $0.returnBy : 1e9)] },
        ]
    }
}
