import Foundation

extension RoadNetwork {
    /// Costs from each origin to each destination (metres, or seconds with `.time`), from and to
    /// the exact snapped positions as `route` goes: one search per origin over the graph, not one
    /// per pair. Nil where no route exists. `other` is the other weight (seconds, or metres) along
    /// the same chosen route, as `route` reports a route's length and time together. `isCancelled`
    /// is asked between origins, so a large matrix stops soon after its caller gives up.
    public func matrix(
        from origins: [Coordinate],
        to destinations: [Coordinate],
        weight: RoadGraph.Weight = .distance,
        isCancelled: () -> Bool = { false }
    ) throws(ComputeError) -> (costs: [[Double?]], other: [[Double?]], origins: [Snap], destinations: [Snap]) {
        var froms: [Snap] = []
        for p in origins { froms.append(try snap(p)) }
        var tos: [Snap] = []
        for p in destinations { tos.append(try snap(p)) }
        let otherWeight: RoadGraph.Weight = weight == .distance ? .time : .distance
        func along(_ part: Partial) -> Double { abs(part.to - part.from) * graph.cost(part.edge, otherWeight) }
        let arrivalsOf = tos.map { arrivals($0, weight: weight) }
        var wanted = [Bool](repeating: false, count: graph.nodeCount)
        for ends in arrivalsOf { for (end, _) in ends { wanted[end.node] = true } }
        var rows: [[Double?]] = []
        var others: [[Double?]] = []
        rows.reserveCapacity(froms.count)
        others.reserveCapacity(froms.count)
        for a in froms {
            if isCancelled() { throw ComputeError(.cancelled, "the matrix was stopped: its request ended") }
            let out = departures(a, weight: weight)
            graph.withSearcher { s in
                var reached: [Int: Double] = [:]
                _ = graph.search(s, from: out.map(\.0), to: [], weight: weight) { u, d in
                    if wanted[Int(u)] { reached[Int(u)] = d }
                }
                /// The other weight along the searched path to `node`: back along the edges taken
                /// to the departure it began at, that stretch included.
                func otherTo(_ node: Int) -> Double {
                    var total = 0.0
                    var v = node
                    while s.prev[v] >= 0 {
                        let e = Int(s.prev[v])
                        total += graph.cost(e, otherWeight)
                        v = graph.source(ofEdge: e)
                    }
                    return total + (out.first { $0.0.node == v }.map { along($0.1) } ?? 0)
                }
                var row: [Double?] = []
                var other: [Double?] = []
                for j in tos.indices {
                    let straight = direct(a, tos[j], weight: weight)
                    var best = straight.map { abs($0.to - $0.from) * graph.cost($0.edge, weight) } ?? .infinity
                    var bestOther = straight.map(along)
                    // As `route`: a way through the graph only when strictly cheaper than staying on the segment.
                    for (end, last) in arrivalsOf[j] {
                        if let d = reached[end.node], d + end.cost < best {
                            best = d + end.cost
                            bestOther = otherTo(end.node) + along(last)
                        }
                    }
                    row.append(best.isFinite ? best : nil)
                    other.append(best.isFinite ? bestOther : nil)
                }
                rows.append(row)
                others.append(other)
            }
        }
        return (rows, others, froms, tos)
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
