import Foundation

extension RoadNetwork {
    /// Costs from each origin to each destination (metres, or seconds with `.time`), from and to
    /// the exact snapped positions as `route` goes: one search per origin over the graph, not one
    /// per pair. Nil where no route exists. `isCancelled` is asked between origins, so a large
    /// matrix stops soon after its caller gives up.
    public func matrix(
        from origins: [Coordinate],
        to destinations: [Coordinate],
        weight: RoadGraph.Weight = .distance,
        isCancelled: () -> Bool = { false }
    ) throws(ComputeError) -> (costs: [[Double?]], origins: [Snap], destinations: [Snap]) {
        var froms: [Snap] = []
        for p in origins { froms.append(try snap(p)) }
        var tos: [Snap] = []
        for p in destinations { tos.append(try snap(p)) }
        let arrivalsOf = tos.map { arrivals($0, weight: weight) }
        var wanted = [Bool](repeating: false, count: graph.nodeCount)
        for ends in arrivalsOf { for (end, _) in ends { wanted[end.node] = true } }
        var rows: [[Double?]] = []
        rows.reserveCapacity(froms.count)
        for a in froms {
            if isCancelled() { throw ComputeError(.cancelled, "the matrix was stopped: its request ended") }
            var reached: [Int: Double] = [:]
            graph.withSearcher { s in
                _ = graph.search(s, from: departures(a, weight: weight).map(\.0), to: [], weight: weight) { u, d in
                    if wanted[Int(u)] { reached[Int(u)] = d }
                }
            }
            rows.append(
                tos.indices.map { j in
                    var best = direct(a, tos[j], weight: weight).map { abs($0.to - $0.from) * graph.cost($0.edge, weight) } ?? .infinity
                    for (end, _) in arrivalsOf[j] {
                        if let d = reached[end.node] { best = min(best, d + end.cost) }
                    }
                    return best.isFinite ? best : nil
                }
            )
        }
        return (rows, froms, tos)
    }

    /// One leg of a batch of routes: its length and time, or why there is none.
    public struct Leg: Sendable, Equatable, Encodable {
        /// False when the destination cannot be reached from the origin (one-way streets, a
        /// disconnected part); the rest is then absent.
        public let reachable: Bool
        /// Metres, seconds at each road's speed, and how many stretches of road the route takes.
        public let length: Double?
        public let time: Double?
        public let roads: Int?
    }

    /// Many independent routes (origin, destination), each exactly as `route` would answer it,
    /// without their geometry. `isCancelled` is asked between routes.
    public func routes(
        _ pairs: [(Coordinate, Coordinate)],
        weight: RoadGraph.Weight = .distance,
        isCancelled: () -> Bool = { false }
    ) throws(ComputeError) -> [Leg] {
        var out: [Leg] = []
        out.reserveCapacity(pairs.count)
        for (a, b) in pairs {
            if isCancelled() { throw ComputeError(.cancelled, "the routes were stopped: their request ended") }
            do {
                let r = try route(through: [a, b], weight: weight)
                out.append(Leg(reachable: true, length: r.length, time: r.time, roads: r.roads.count))
            } catch {
                guard error.kind == .unreachable else { throw error }
                out.append(Leg(reachable: false, length: nil, time: nil, roads: nil))
            }
        }
        return out
    }
}
