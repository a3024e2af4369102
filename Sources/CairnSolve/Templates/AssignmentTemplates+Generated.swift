import CairnCompute

extension AssignmentTemplates {
    /// A generated capacitated facility location, single sourcing, as `facility_location` poses
    /// it, for tests and benchmarks: `facilities` candidate sites (opening cost 300–900 ×
    /// `fixedCostScale`, capacity `capacityFactor` × the total demand shared out, ±20%) and
    /// `customers` (demand 5–35) on a 100 × 100 plane, costs demand × distance (integers).
    /// Seed 52 at the defaults is the instance the tests and BENCHMARKS.md name: GLPK stops at
    /// its time limit with a gap on it, CBC and HiGHS prove its optimum.
    public static func generatedFacilityLocation(
        seed: UInt64 = 52,
        facilities: Int = 20,
        customers: Int = 200,
        capacityFactor: Double = 1.5,
        fixedCostScale: Double = 1
    ) -> LinearModel {
        var rng = SplitMix64(state: seed)
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(rng.next() % 1_000_000) / 1_000_000 }
        let places = (0..<(facilities + customers)).map { _ in (uniform(0, 100), uniform(0, 100)) }
        let demands = (0..<customers).map { _ in uniform(5, 35).rounded() }
        let capacity = (demands.reduce(0, +) * capacityFactor / Double(facilities)).rounded()
        let sites = (0..<facilities).map { f in
            Site(
                path: "f\(f)",
                numbers: ["cost": (uniform(300, 900) * fixedCostScale).rounded(), "capacity": (capacity * uniform(0.8, 1.2)).rounded()]
            )
        }
        let clients = (0..<customers).map { c in Site(path: "c\(c)", numbers: ["demand": demands[c]]) }
        let distances = (0..<facilities).map { f in
            places.map { p in ((places[f].0 - p.0) * (places[f].0 - p.0) + (places[f].1 - p.1) * (places[f].1 - p.1)).squareRoot().rounded()
            }
        }
        // Without a distance limit every customer has every facility to choose: never unreachable.
        let built = try? facilityLocation(facilities: sites, customers: clients, distances: distances, maxDistance: nil, capacity: nil)
        return built!.model
    }
}
