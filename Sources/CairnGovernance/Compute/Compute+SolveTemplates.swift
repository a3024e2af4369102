import CairnCompute
import CairnCore
import CairnSolve
import CairnStore
import Foundation

/// Solve's templates: problems built from the world model's files (routing from a depot and
/// stops, facility location, crew assignment), with costs along the roads or geodesic.
extension ComputeArea {
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
            let (_, blob, bytes) = try await core.readBytes(caller, project: name, path: path, at: commit.hex)
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
        branch: String?,
        at commit: ObjectID,
        inputs: inout [RunInput]
    )
        async throws -> (distances: [[Double]], times: [[Double]])
    {
        guard let roads else {
            let d = points.map { a in points.map { b in Geodesic.wgs84.distance(a, b) } }
            return (d, d.map { $0.map { $0 / (30 / 3.6) } })
        }
        let (network, roadSet) = try await roadNetwork(
            caller,
            project,
            name: name,
            branch: branch,
            commit: commit,
            glob: roads,
            classes: nil
        )
        inputs += roadSet.files
        // One search per location (off the request executor), each pair's metres and the seconds
        // along that same route, as `route` answers them.
        let (costs, times, _, _) = try await Offload.run { stopped in
            try self.compute { try network.matrix(from: points, to: points, weight: .distance, isCancelled: stopped) }
        }
        var d = [[Double]](repeating: [Double](repeating: 0, count: points.count), count: points.count)
        var t = d
        for i in points.indices {
            for j in points.indices where i != j {
                guard let metres = costs[i][j], let seconds = times[i][j] else {
                    throw CairnError(
                        .unprocessable,
                        "no route from (\(points[i].lon), \(points[i].lat)) to (\(points[j].lon), \(points[j].lat)) on this network "
                            + "(one-way streets or a disconnected part)",
                        details: ["reason": "unreachable"]
                    )
                }
                d[i][j] = metres
                t[i][j] = seconds
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
            branch: Gateway.branch(of: request.ref ?? "main"),
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

    /// The MIP of an assignment template (`facility_location` or `crew_assignment`, see
    /// `AssignmentTemplates`), on the request's `depots` (facilities, or crews where each starts)
    /// and `stops` (customers, or work orders), at their costs.
    func assignmentModel(
        _ caller: Caller,
        _ project: Project,
        _ name: String,
        _ request: SolveRequest,
        at commit: ObjectID,
        inputs: inout [RunInput]
    )
        async throws -> AssignmentModel
    {
        let facilities = request.kind == "facility_location"
        let (first, second, distances) = try await pairedPoints(
            caller,
            project,
            name,
            request,
            at: commit,
            inputs: &inputs,
            kind: request.kind,
            roles: facilities ? ("candidate facilities", "customers") : ("crews, where each starts", "work orders")
        )
        guard facilities else {
            return AssignmentTemplates.crewAssignment(
                crews: first.map(Self.site),
                orders: second.map(Self.site),
                distances: distances,
                maxDistance: request.maxDistance,
                capacity: request.capacity
            )
        }
        do {
            return try AssignmentTemplates.facilityLocation(
                facilities: first.map(Self.site),
                customers: second.map(Self.site),
                distances: distances,
                maxDistance: request.maxDistance,
                capacity: request.capacity
            )
        } catch {
            throw CairnError(
                .unprocessable,
                "\(error.customer) has no facility within \(request.maxDistance ?? 0) m",
                details: ["path": error.customer, "reason": "infeasible"]
            )
        }
    }

    /// A Point file as a template's site: its path and its number properties.
    static func site(_ place: (path: String, point: Coordinate, properties: [String: Any])) -> Site {
        Site(path: place.path, numbers: place.properties.compactMapValues { ($0 as? NSNumber)?.doubleValue })
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
            branch: Gateway.branch(of: request.ref ?? "main"),
            at: commit,
            inputs: &inputs
        )
        return (first, second, distances)
    }
}

/// A number property of a feature (nil when absent or not a number).
private func number(_ properties: [String: Any], _ key: String) -> Double? { (properties[key] as? NSNumber)?.doubleValue }
