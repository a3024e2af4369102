import Foundation
import Testing

@testable import CairnSolve

/// The MIPs of the assignment templates, built from places and costs alone and solved by GLPK:
/// what each template asks is readable and testable without a store.
@Suite struct AssignmentTemplateTests {
    @Test("facility location: open the facilities worth their cost, serve every customer within reach and capacity")
    func facilityLocation() async throws {
        // Two facilities, three customers; costs f→c in distances[f][2 + c].
        let facilities = [Site(path: "f/a", numbers: ["cost": 10, "capacity": 2]), Site(path: "f/b", numbers: ["cost": 100])]
        let customers = (0..<3).map { Site(path: "c/\($0)", numbers: ["demand": 1]) }
        let distances: [[Double]] = [[0, 0, 10, 10, 10], [0, 0, 50, 50, 5]]
        let built = try AssignmentTemplates.facilityLocation(
            facilities: facilities,
            customers: customers,
            distances: distances,
            maxDistance: nil,
            capacity: nil
        )
        #expect(built.assignments.count == 6)
        let (result, _) = try await GLPK.solve(built.model, control: SolveControl(timeLimit: 10))
        #expect(result.status == .optimal)
        // a alone holds only two, b alone costs 205: both, with c/2 at b: 10 + 100 + 10 + 10 + 5.
        #expect(
            abs((result.objective ?? 0) - 135) < 1e-6,
            "\(result.values.filter { $0.value != 0 }) \(built.model.constraints.map(\.name))"
        )
        #expect(result.values["assign[c/2→f/b]"] == 1 && result.values["open[f/a]"] == 1)
        // Out of reach of every facility: no model, and the customer is named.
        #expect(throws: AssignmentTemplates.Unreachable.self) {
            try AssignmentTemplates.facilityLocation(
                facilities: facilities,
                customers: customers,
                distances: distances,
                maxDistance: 4,
                capacity: nil
            )
        }
    }

    @Test("crew assignment: orders fit each crew's minutes, the least urgent are left first")
    func crewAssignment() async throws {
        let crews = [Site(path: "crew/1", numbers: ["minutes": 120])]
        let orders = [
            Site(path: "o/urgent", numbers: ["minutes": 90, "priority": 1]),
            Site(path: "o/later", numbers: ["minutes": 90, "priority": 3]),
        ]
        let built = AssignmentTemplates.crewAssignment(
            crews: crews,
            orders: orders,
            distances: [[0, 1000, 10]],
            maxDistance: nil,
            capacity: nil
        )
        let (result, _) = try await GLPK.solve(built.model, control: SolveControl(timeLimit: 10))
        #expect(result.status == .optimal)
        // Only one fits in 120 minutes: the urgent one, though it is farther.
        #expect(result.values["assign[o/urgent→crew/1]"] == 1 && result.values["leave[o/later]"] == 1)
        #expect(abs((result.objective ?? 0) - 101_000) < 1e-6, "\(result.objective ?? .nan)")
    }
}
