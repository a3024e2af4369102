import Foundation

/// A capacitated vehicle-routing problem with time windows: vehicles leave a depot at the start
/// of their shift and must be back by its end (and within their maximum duration); each stop has
/// a demand, a service time and a window in which its service must begin (arriving early means
/// waiting). Costs and travel times are matrices over locations (indices into `distances`);
/// the objective is the total cost of the routes driven.
public struct RoutingProblem: Sendable, Codable, Equatable {
    /// A place to visit: its demand, service time and time window.
    public struct Stop: Sendable, Codable, Equatable {
        public var id: String
        public var location: Int
        public var demand: Double
        public var service: Double
        public var earliest: Double?
        public var latest: Double?

        public init(id: String, location: Int, demand: Double = 0, service: Double = 0, earliest: Double? = nil, latest: Double? = nil) {
            self.id = id
            self.location = location
            self.demand = demand
            self.service = service
            self.earliest = earliest
            self.latest = latest
        }

        enum CodingKeys: String, CodingKey { case id, location, demand, service, earliest, latest }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            location = try c.decode(Int.self, forKey: .location)
            demand = try c.decodeIfPresent(Double.self, forKey: .demand) ?? 0
            service = try c.decodeIfPresent(Double.self, forKey: .service) ?? 0
            earliest = try c.decodeIfPresent(Double.self, forKey: .earliest)
            latest = try c.decodeIfPresent(Double.self, forKey: .latest)
        }
    }

    /// A vehicle: its capacity, and when it must be back.
    public struct Vehicle: Sendable, Codable, Equatable {
        public var id: String
        /// The location it leaves from and returns to.
        public var depot: Int
        /// nil: unlimited.
        public var capacity: Double?
        public var shiftStart: Double
        public var shiftEnd: Double?
        /// The longest a route may last, from the shift's start to the return.
        public var maxDuration: Double?

        public init(
            id: String,
            depot: Int = 0,
            capacity: Double? = nil,
            shiftStart: Double = 0,
            shiftEnd: Double? = nil,
            maxDuration: Double? = nil
        ) {
            self.id = id
            self.depot = depot
            self.capacity = capacity
            self.shiftStart = shiftStart
            self.shiftEnd = shiftEnd
            self.maxDuration = maxDuration
        }

        enum CodingKeys: String, CodingKey { case id, depot, capacity, shiftStart, shiftEnd, maxDuration }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            depot = try c.decodeIfPresent(Int.self, forKey: .depot) ?? 0
            capacity = try c.decodeIfPresent(Double.self, forKey: .capacity)
            shiftStart = try c.decodeIfPresent(Double.self, forKey: .shiftStart) ?? 0
            shiftEnd = try c.decodeIfPresent(Double.self, forKey: .shiftEnd)
            maxDuration = try c.decodeIfPresent(Double.self, forKey: .maxDuration)
        }

        /// The latest the vehicle may be back.
        var returnBy: Double { min(shiftEnd ?? .infinity, shiftStart + (maxDuration ?? .infinity)) }
    }

    /// Cost of going from location i to j (metres, say), and the travel time (defaults to the cost).
    public var distances: [[Double]]
    public var times: [[Double]]?
    public var stops: [Stop]
    public var vehicles: [Vehicle]

    public init(distances: [[Double]], times: [[Double]]? = nil, stops: [Stop], vehicles: [Vehicle]) {
        self.distances = distances
        self.times = times
        self.stops = stops
        self.vehicles = vehicles
    }

    /// Checks the problem's shape, naming the first thing wrong.
    public func validate() throws(SolveError) {
        let n = distances.count
        guard n > 0, distances.allSatisfy({ $0.count == n }) else {
            throw SolveError(.invalidModel, "distances must be a square matrix over the locations")
        }
        if let times, times.count != n || !times.allSatisfy({ $0.count == n }) {
            throw SolveError(.invalidModel, "times must be a square matrix of the same size as distances")
        }
        for row in distances + (times ?? []) where !row.allSatisfy({ $0.isFinite && $0 >= 0 }) {
            throw SolveError(.invalidModel, "every distance and time must be a finite number ≥ 0")
        }
        guard !vehicles.isEmpty else { throw SolveError(.invalidModel, "there are no vehicles") }
        var ids = Set<String>()
        for s in stops {
            guard ids.insert(s.id).inserted else { throw SolveError(.invalidModel, "the stop id '\(s.id)' is used twice") }
            guard (0..<n).contains(s.location) else {
                throw SolveError(.invalidModel, "stop '\(s.id)' has location \(s.location), outside 0..<\(n)")
            }
            guard s.demand.isFinite, s.demand >= 0, s.service.isFinite, s.service >= 0 else {
                throw SolveError(.invalidModel, "stop '\(s.id)' needs a demand and a service time ≥ 0")
            }
            if let e = s.earliest, let l = s.latest, e > l {
                throw SolveError(.invalidModel, "stop '\(s.id)' has its window's start after its end")
            }
        }
        for v in vehicles {
            guard (0..<n).contains(v.depot) else {
                throw SolveError(.invalidModel, "vehicle '\(v.id)' has depot \(v.depot), outside 0..<\(n)")
            }
            if let c = v.capacity, !(c >= 0) { throw SolveError(.invalidModel, "vehicle '\(v.id)' has a negative capacity") }
            guard v.returnBy >= v.shiftStart else {
                throw SolveError(.invalidModel, "vehicle '\(v.id)' must be back before its shift starts")
            }
        }
    }
}
