import CairnCompute
import CairnCore
import CairnSolve
import CairnStore
import Foundation

/// Solve's templates: problems built from the world model's files (routing from a depot and
/// stops, facility location, crew assignment), with costs along the roads or geodesic.
extension Gateway {
    /// Point files a glob names, with their properties, in path order (recorded as inputs).
    func pointFiles(
        _ caller: Caller,
        _ name: String,
        _ pattern: String,
        at commit: ObjectID,
        inputs: inout [RunInput]
    ) async throws
        -> [(path: String, point: Coordinate, properties: [String: Any])]
    {
        var out: [(String, Coordinate, [String: Any])] = []
        for path in try await expand(caller, name, pattern, at: commit.hex) {
            let (_, blob, bytes) = try await readBytes(caller, project: name, path: path, at: commit.hex)
            inputs.append(RunInput(path: path, blob: blob.hex))
            let object = try? JSONSerialization.jsonObject(with: Data(bytes))
            guard case .point(let p) = try compute({ try Geometry.parse(object as Any) }) else {
                throw CairnError(.invalidArgument, "\(path) is not a Point feature", details: ["path": path])
            }
            out.append((path, p, (object as? [String: Any])?["properties"] as? [String: Any] ?? [:]))
        }
        return out
    }

    /// Costs between locations: metres (and seconds) along the roads when a road glob is given,
    /// else geodesic metres (and seconds at 30 km/h).
    func costMatrices(
        _ caller: Caller,
        _ project: Project,
        _ name: String,
        _ points: [Coordinate],
        roads: String?,
        at commit: ObjectID,
        inputs: inout [RunInput]
    )
        async throws -> (distances: [[Double]], times: [[Double]])
    {
        guard let roads else {
            let d = points.map { a in points.map { b in Geodesic.wgs84.distance(a, b) } }
            return (d, d.map { $0.map { $0 / (30 / 3.6) } })
        }
        let network = try await roadNetwork(caller, project, name: name, commit: commit, glob: roads, classes: nil, inputs: &inputs)
        var d = [[Double]](repeating: [Double](repeating: 0, count: points.count), count: points.count)
        var t = d
        for i in points.indices {
            for j in points.indices where i != j {
                let route = try compute { try network.route(through: [points[i], points[j]]) }
                d[i][j] = route.length
                t[i][j] = route.time
            }
        }
        return (d, t)
    }

    /// A routing problem from files: one depot (the first file `depots` names), the stops, and
    /// `vehicles` identical vans.
    func routingProblem(
        _ caller: Caller,
        _ project: Project,
        _ name: String,
        _ request: SolveRequest,
        at commit: ObjectID,
        inputs: inout [RunInput]
    )
        async throws -> RoutingProblem
    {
        guard let depotGlob = request.depots, let stopGlob = request.stops else {
            throw CairnError(.invalidArgument, "routing needs a model (input or model), or depots and stops (Point files)")
        }
        guard let depot = try await pointFiles(caller, name, depotGlob, at: commit, inputs: &inputs).first else {
            throw CairnError(.invalidArgument, "no depot file matches '\(depotGlob)'")
        }
        let stops = try await pointFiles(caller, name, stopGlob, at: commit, inputs: &inputs)
        guard !stops.isEmpty else { throw CairnError(.invalidArgument, "no stop file matches '\(stopGlob)'") }
        let (distances, times) = try await costMatrices(
            caller,
            project,
            name,
            [depot.point] + stops.map(\.point),
            roads: request.roads,
            at: commit,
            inputs: &inputs
        )
        return RoutingProblem(
            distances: distances,
            times: times,
            stops: stops.enumerated().map { i, s in
                .init(
                    id: s.path,
                    location: i + 1,
                    demand: number(s.properties, "demand") ?? 0,
                    service: number(s.properties, "service") ?? 0,
                    earliest: number(s.properties, "earliest"),
                    latest: number(s.properties, "latest")
                )
            },
            vehicles: (0..<max(1, request.vehicles ?? 1)).map {
                .init(
                    id: "\(depot.path)#\($0 + 1)",
                    depot: 0,
                    capacity: request.capacity,
                    shiftEnd: request.shiftEnd,
                    maxDuration: request.maxDuration
                )
            }
        )
    }

    /// Facility location and assignment as a MIP: open facilities (binary, paying each one's
    /// `cost`), assign every customer to one open facility within `maxDistance`, within each
    /// facility's `capacity` of total demand; minimize opening costs plus demand × distance.
    func facilityModel(
        _ caller: Caller,
        _ project: Project,
        _ name: String,
        _ request: SolveRequest,
        at commit: ObjectID,
        inputs: inout [RunInput]
    )
        async throws -> (model: LinearModel, assignVariables: [(key: (String, String), value: String)])
    {
        let (facilities, customers, distances) = try await pairedPoints(
            caller,
            project,
            name,
            request,
            at: commit,
            inputs: &inputs,
            kind: "facility_location",
            roles: ("candidate facilities", "customers")
        )
        var variables: [LinearModel.Variable] = []
        var constraints: [LinearModel.Constraint] = []
        var objective: [String: Double] = [:]
        var assign: [(key: (String, String), value: String)] = []
        for facility in facilities {
            variables.append(.init(name: "open[\(facility.path)]", type: .binary))
            objective["open[\(facility.path)]"] = number(facility.properties, "cost") ?? 0
        }
        for (c, customer) in customers.enumerated() {
            let demand = number(customer.properties, "demand") ?? 1
            var choices: [String: Double] = [:]
            for (f, facility) in facilities.enumerated() {
                let d = distances[f][facilities.count + c]
                if let limit = request.maxDistance, d > limit { continue }
                let x = "assign[\(customer.path)→\(facility.path)]"
                variables.append(.init(name: x, type: .binary))
                objective[x] = demand * d
                choices[x] = 1
                assign.append(((customer.path, facility.path), x))
                constraints.append(
                    .init(
                        name: "only-open[\(customer.path)→\(facility.path)]",
                        terms: [x: 1, "open[\(facility.path)]": -1],
                        op: .lessOrEqual,
                        rhs: 0
                    )
                )
            }
            guard !choices.isEmpty else {
                throw CairnError(
                    .unprocessable,
                    "\(customer.path) has no facility within \(request.maxDistance ?? 0) m",
                    details: ["path": customer.path, "reason": "infeasible"]
                )
            }
            constraints.append(.init(name: "served[\(customer.path)]", terms: choices, op: .equal, rhs: 1))
        }
        for facility in facilities {
            guard let capacity = number(facility.properties, "capacity") ?? request.capacity else { continue }
            var terms: [String: Double] = ["open[\(facility.path)]": -capacity]
            for (c, customer) in customers.enumerated() where assign.contains(where: { $0.key == (customer.path, facility.path) }) {
                terms["assign[\(customer.path)→\(facility.path)]"] = number(customers[c].properties, "demand") ?? 1
            }
            constraints.append(.init(name: "capacity[\(facility.path)]", terms: terms, op: .lessOrEqual, rhs: 0))
        }
        return (LinearModel(sense: .minimize, variables: variables, constraints: constraints, objective: objective), assign)
    }

    /// Crew assignment as a MIP: each work order (`stops`; properties `minutes`, `priority` 1–3)
    /// goes to one crew (`depots`, where each crew starts; property `minutes`, else `capacity`:
    /// the minutes of its shift) or is left for another day; a crew's orders fit its minutes;
    /// minimize the distance from each crew's depot to its orders, plus, for each order left, a
    /// penalty that grows with its priority (1 most urgent): 100 km × (4 − priority).
    func crewModel(
        _ caller: Caller,
        _ project: Project,
        _ name: String,
        _ request: SolveRequest,
        at commit: ObjectID,
        inputs: inout [RunInput]
    )
        async throws -> (model: LinearModel, assignVariables: [(key: (String, String), value: String)])
    {
        let (crews, orders, distances) = try await pairedPoints(
            caller,
            project,
            name,
            request,
            at: commit,
            inputs: &inputs,
            kind: "crew_assignment",
            roles: ("crews, where each starts", "work orders")
        )
        var variables: [LinearModel.Variable] = []
        var constraints: [LinearModel.Constraint] = []
        var objective: [String: Double] = [:]
        var assign: [(key: (String, String), value: String)] = []
        var shift: [String: [String: Double]] = [:]
        for (o, order) in orders.enumerated() {
            let skip = "leave[\(order.path)]"
            variables.append(.init(name: skip, type: .binary))
            objective[skip] = 100_000 * (4 - min(3, max(1, number(order.properties, "priority") ?? 2)))
            var choices: [String: Double] = [skip: 1]
            for (c, crew) in crews.enumerated() {
                let d = distances[c][crews.count + o]
                if let limit = request.maxDistance, d > limit { continue }
                let x = "assign[\(order.path)→\(crew.path)]"
                variables.append(.init(name: x, type: .binary))
                objective[x] = d
                choices[x] = 1
                assign.append(((order.path, crew.path), x))
                shift[crew.path, default: [:]][x] = number(order.properties, "minutes") ?? 60
            }
            constraints.append(.init(name: "once[\(order.path)]", terms: choices, op: .equal, rhs: 1))
        }
        for crew in crews {
            let minutes = number(crew.properties, "minutes") ?? request.capacity ?? 480
            if let terms = shift[crew.path] {
                constraints.append(.init(name: "shift[\(crew.path)]", terms: terms, op: .lessOrEqual, rhs: minutes))
            }
        }
        return (LinearModel(sense: .minimize, variables: variables, constraints: constraints, objective: objective), assign)
    }

    /// The two sets of Point files a template pairs up (`depots` and `stops`: facilities and
    /// customers, crews and work orders), and the costs from each of the first to each of the
    /// second (`distances[i][first.count + j]`).
    func pairedPoints(
        _ caller: Caller,
        _ project: Project,
        _ name: String,
        _ request: SolveRequest,
        at commit: ObjectID,
        inputs: inout [RunInput],
        kind: String,
        roles: (String, String)
    ) async throws -> (
        first: [(path: String, point: Coordinate, properties: [String: Any])],
        second: [(path: String, point: Coordinate, properties: [String: Any])], distances: [[Double]]
    ) {
        guard let firstGlob = request.depots, let secondGlob = request.stops else {
            throw CairnError(.invalidArgument, "\(kind) needs depots (\(roles.0)) and stops (\(roles.1)), as Point files")
        }
        let first = try await pointFiles(caller, name, firstGlob, at: commit, inputs: &inputs)
        let second = try await pointFiles(caller, name, secondGlob, at: commit, inputs: &inputs)
        guard !first.isEmpty, !second.isEmpty else {
            throw CairnError(.invalidArgument, "\(kind) needs at least one of the \(roles.0) and one of the \(roles.1)")
        }
        let (distances, _) = try await costMatrices(
            caller,
            project,
            name,
            first.map(\.point) + second.map(\.point),
            roads: request.roads,
            at: commit,
            inputs: &inputs
        )
        return (first, second, distances)
    }
}

/// A number property of a feature (nil when absent or not a number).
private func number(_ properties: [String: Any], _ key: String) -> Double? { (properties[key] as? NSNumber)?.doubleValue }
