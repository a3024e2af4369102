import Foundation

/// A road graph with the spatial index its queries need: snapping a point to the nearest
/// position on a road, routing between points, and what is reachable within a budget.
public final class RoadNetwork: Sendable {
    public let graph: RoadGraph
    /// Grid cells of 0.001° → the segments passing through them, each once (by its lowest edge:
    /// a two-way segment's other direction lies on the same line).
    private let cells: [Int64: [Int32]]
    /// The cells that hold anything lie within these bounds (cell coordinates): a search that has
    /// covered them has seen every segment.
    private let extent: (minX: Int, maxX: Int, minY: Int, maxY: Int)
    /// Each edge's source node (the graph finds it by a binary search; snapping asks for many).
    private let sources: [Int32]
    static let cellSize = 0.001

    public init(roads: [Road], classes: Set<String>? = nil) throws(ComputeError) {
        graph = try RoadGraph(roads: roads, classes: classes)
        guard graph.edgeCount > 0 else {
            throw ComputeError(
                .emptyNetwork,
                "the road network has no usable segment (no LineString roads\(classes == nil ? "" : " of the chosen classes"))"
            )
        }
        var cells: [Int64: [Int32]] = [:]
        var sources = [Int32](repeating: 0, count: graph.edgeCount)
        var extent = (minX: Int.max, maxX: Int.min, minY: Int.max, maxY: Int.min)
        for u in 0..<graph.nodeCount {
            for e in Int(graph.offsets[u])..<Int(graph.offsets[u + 1]) { sources[e] = Int32(u) }
        }
        for u in 0..<graph.nodeCount {
            let a = graph.coordinates[u]
            for e in Int(graph.offsets[u])..<Int(graph.offsets[u + 1]) {
                let v = Int(graph.targets[e])
                // The other direction of a two-way segment, when it has the lower number, stands for both.
                if let back = graph.edge(from: v, to: u), back < e { continue }
                let b = graph.coordinates[v]
                for (x, y) in Self.cellsCovering(a, b) {
                    cells[Self.cellKey(x, y), default: []].append(Int32(e))
                    extent = (min(extent.minX, x), max(extent.maxX, x), min(extent.minY, y), max(extent.maxY, y))
                }
            }
        }
        self.cells = cells
        self.extent = extent
        self.sources = sources
    }

    static func cellKey(_ x: Int, _ y: Int) -> Int64 { Int64(x) &* 1_000_003 &+ Int64(y) }

    static func cellsCovering(_ a: Coordinate, _ b: Coordinate) -> [(Int, Int)] {
        let x0 = Int((min(a.lon, b.lon) / cellSize).rounded(.down))
        let x1 = Int((max(a.lon, b.lon) / cellSize).rounded(.down))
        let y0 = Int((min(a.lat, b.lat) / cellSize).rounded(.down))
        let y1 = Int((max(a.lat, b.lat) / cellSize).rounded(.down))
        var out: [(Int, Int)] = []
        for x in x0...x1 { for y in y0...y1 { out.append((x, y)) } }
        return out
    }

    /// The cells at Chebyshev distance `ring` from (cx, cy) that lie within the extent: the
    /// square's perimeter, clipped, each once. A point far from every road thus costs what the
    /// network's area holds, not the empty rings between them.
    func ring(_ ring: Int, around cx: Int, _ cy: Int, _ body: (Int, Int) -> Void) {
        let (x0, x1) = (max(cx - ring, extent.minX), min(cx + ring, extent.maxX))
        let (y0, y1) = (max(cy - ring, extent.minY), min(cy + ring, extent.maxY))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in ring == 0 ? [cy] : [cy - ring, cy + ring] where y >= y0 && y <= y1 {
            for x in x0...x1 { body(x, y) }
        }
        for x in ring == 0 ? [] : [cx - ring, cx + ring] where x >= x0 && x <= x1 {
            let (from, to) = (max(y0, cy - ring + 1), min(y1, cy + ring - 1))
            if from <= to { for y in from...to { body(x, y) } }
        }
    }

    /// A point's place on the network.
    public struct Snap: Sendable, Equatable, Encodable {
        public let input: Coordinate
        public let point: Coordinate
        /// Metres from the input to the point on the road.
        public let distance: Double
        public let road: String
        /// Metres along the road from its first position (as drawn) to the point, and that as a
        /// fraction of the road's length, from 0 to 1.
        public let offset: Double
        public let fraction: Double
        /// The edge it lies on and how far along that edge (0 at its start, 1 at its end), for routing.
        let edge: Int
        let along: Double

        enum CodingKeys: String, CodingKey { case input, point, distance, road, offset, fraction }
    }
    /// The nearest position on any road, searching rings of cells outward until no nearer one can exist.
    ///
    /// Candidates are ranked by their distance on a local plane (degrees, longitude scaled by the
    /// cosine of the point's latitude: no trigonometry per candidate), and those the plane cannot
    /// tell from the nearest are measured by haversine, which decides (ties: the lowest edge), so
    /// the answer is the haversine-nearest position. The plane's error grows with the distance
    /// and the latitude, and so does that margin; past 1° every candidate is measured.
    public func snap(_ p: Coordinate) throws(ComputeError) -> Snap {
        guard p.isValid else { throw ComputeError(.invalidInput, "the point (\(p.lon), \(p.lat)) is out of range") }
        let cx = Int((p.lon / Self.cellSize).rounded(.down))
        let cy = Int((p.lat / Self.cellSize).rounded(.down))
        let k = cos(p.lat * .pi / 180)
        var nearest = Double.infinity
        var candidates: [(d2: Double, e: Int, t: Double, q: Coordinate)] = []
        let metresPerCell = Self.cellSize * 110_540 * max(0.05, k)
        // Metres per degree on the sphere, with a margin for the plane's error at these distances.
        let metresPerDegree = Haversine.earthRadius * .pi / 180 * 1.001
        // Rings nearer than the network's extent hold nothing: start at the first that reaches it.
        var ring = max(0, extent.minX - cx, cx - extent.maxX, extent.minY - cy, cy - extent.maxY)
        let tangent = min(100, abs(tan(p.lat * .pi / 180)))
        /// How far past the nearest squared planar distance a candidate may be and still be the nearest.
        func margin(_ d2: Double) -> Double {
            let d = d2.squareRoot()
            guard d <= 1 else { return .infinity }
            let s = 1e-6 + d * 0.05 * (1 + tangent)
            return (1 + s) * (1 + s)
        }
        while true {
            self.ring(ring, around: cx, cy) { x, y in
                guard let edges = cells[Self.cellKey(x, y)] else { return }
                for e in edges {
                    let a = graph.coordinates[Int(sources[Int(e)])]
                    let b = graph.coordinates[Int(graph.targets[Int(e)])]
                    let (t, q, d2) = Self.project(p, a, b, scale: k)
                    if d2 <= nearest * margin(nearest) + 1e-30 {
                        nearest = min(nearest, d2)
                        candidates.append((d2, Int(e), t, q))
                    }
                }
            }
            // Once something is found, one more ring is enough to be sure nothing is nearer; once
            // the square covers every cell that holds anything, nothing is left to find.
            if nearest.isFinite, Double(ring) * metresPerCell > (nearest * margin(nearest)).squareRoot() * metresPerDegree { break }
            if cx - ring <= extent.minX && cx + ring >= extent.maxX && cy - ring <= extent.minY && cy + ring >= extent.maxY { break }
            ring += 1
        }
        var best: (d: Double, e: Int, t: Double, q: Coordinate)?
        for c in candidates where c.d2 <= nearest * margin(nearest) + 1e-30 {
            let d = Haversine.distance(p, c.q)
            if best == nil || d < best!.d || (d == best!.d && c.e < best!.e) { best = (d, c.e, c.t, c.q) }
        }
        guard let best else { throw ComputeError(.emptyNetwork, "no road near (\(p.lon), \(p.lat))") }
        let place = graph.placeOnRoad(edge: best.e, fraction: best.t)
        return Snap(
            input: p,
            point: best.q,
            distance: best.d,
            road: graph.road(ofEdge: best.e),
            offset: place.offset,
            fraction: place.fraction,
            edge: best.e,
            along: best.t
        )
    }

    /// The nearest point of segment a–b to p on a local projection, and how far along it lies.
    static func project(_ p: Coordinate, _ a: Coordinate, _ b: Coordinate) -> (Double, Coordinate) {
        let (t, q, _) = project(p, a, b, scale: cos(p.lat * .pi / 180))
        return (t, q)
    }

    /// The same, with the longitude scale `k` (the cosine of p's latitude) given, and the squared
    /// distance from p to the point on that plane (degrees²).
    static func project(_ p: Coordinate, _ a: Coordinate, _ b: Coordinate, scale k: Double) -> (Double, Coordinate, Double) {
        let ax = (a.lon - p.lon) * k
        let ay = a.lat - p.lat
        let bx = (b.lon - p.lon) * k
        let by = b.lat - p.lat
        let dx = bx - ax
        let dy = by - ay
        let len2 = dx * dx + dy * dy
        let t = len2 == 0 ? 0 : max(0, min(1, -(ax * dx + ay * dy) / len2))
        let (x, y) = (ax + t * dx, ay + t * dy)
        // At either end the point is the node itself, exactly (a + 1 * (b - a) may miss b by a unit in the last place).
        if t <= 0 { return (0, a, ax * ax + ay * ay) }
        if t >= 1 { return (1, b, bx * bx + by * by) }
        return (t, Coordinate(lon: a.lon + t * (b.lon - a.lon), lat: a.lat + t * (b.lat - a.lat)), x * x + y * y)
    }

    /// A route's length, time and roads, from the exact snapped start to the exact snapped end.
    public struct Route: Sendable, Equatable, Encodable {
        /// From the first snapped point to the last, through the road vertices between.
        public let coordinates: [Coordinate]
        /// Metres, and seconds at each road's speed.
        public let length: Double
        public let time: Double
        /// The roads used, in order, each once per stretch.
        public let roads: [String]
        public let snapped: [Snap]
    }

    /// A stretch of one edge: from `from` to `to` of the way along it (either may be larger:
    /// then the edge's reverse is travelled).
    struct Partial {
        let edge: Int, from: Double, to: Double
    }

    /// The node a snapped point lies exactly on (its segment's start or end), if it does. Such a
    /// point is that node: every edge meeting there is open to it at no cost, whichever segment
    /// the snap happened to pick among those sharing the node.
    func node(at s: Snap) -> Int? {
        if s.along <= 0 { return graph.source(ofEdge: s.edge) }
        if s.along >= 1 { return graph.target(ofEdge: s.edge) }
        return nil
    }

    /// The ways out of a snapped point onto the graph: the node itself when the point is on one;
    /// otherwise to the end of its segment that the edge leads to and, where the road may be
    /// travelled the other way, back to its start.
    func departures(_ a: Snap, weight: RoadGraph.Weight) -> [(RoadGraph.Endpoint, Partial)] {
        if let n = node(at: a) { return [(RoadGraph.Endpoint(node: n), Partial(edge: a.edge, from: a.along, to: a.along))] }
        let u = graph.source(ofEdge: a.edge)
        let v = graph.target(ofEdge: a.edge)
        var out = [
            (RoadGraph.Endpoint(node: v, cost: (1 - a.along) * graph.cost(a.edge, weight)), Partial(edge: a.edge, from: a.along, to: 1))
        ]
        if let back = graph.edge(from: v, to: u, weight: weight) {
            out.append(
                (RoadGraph.Endpoint(node: u, cost: a.along * graph.cost(back, weight)), Partial(edge: back, from: 1 - a.along, to: 1))
            )
        }
        return out
    }

    /// The ways from the graph onto a snapped point: the node itself when the point is on one;
    /// otherwise from its segment's start along the edge and, where the road may be travelled
    /// the other way, from its end.
    func arrivals(_ b: Snap, weight: RoadGraph.Weight) -> [(RoadGraph.Endpoint, Partial)] {
        if let n = node(at: b) { return [(RoadGraph.Endpoint(node: n), Partial(edge: b.edge, from: b.along, to: b.along))] }
        let u = graph.source(ofEdge: b.edge)
        let v = graph.target(ofEdge: b.edge)
        var out = [(RoadGraph.Endpoint(node: u, cost: b.along * graph.cost(b.edge, weight)), Partial(edge: b.edge, from: 0, to: b.along))]
        if let back = graph.edge(from: v, to: u, weight: weight) {
            out.append(
                (RoadGraph.Endpoint(node: v, cost: (1 - b.along) * graph.cost(back, weight)), Partial(edge: back, from: 0, to: 1 - b.along))
            )
        }
        return out
    }

    /// Going from `a` to `b` on their shared segment without leaving it, when they share one and
    /// the road may be travelled that way.
    func direct(_ a: Snap, _ b: Snap, weight: RoadGraph.Weight) -> Partial? {
        let u = graph.source(ofEdge: a.edge)
        let v = graph.target(ofEdge: a.edge)
        let bu = graph.source(ofEdge: b.edge)
        let bv = graph.target(ofEdge: b.edge)
        // b's place measured from u toward v.
        let s: Double
        if (bu, bv) == (u, v) { s = b.along } else if (bu, bv) == (v, u) { s = 1 - b.along } else { return nil }
        if s >= a.along { return Partial(edge: a.edge, from: a.along, to: s) }
        guard let back = graph.edge(from: v, to: u, weight: weight) else { return nil }
        return Partial(edge: back, from: 1 - a.along, to: 1 - s)
    }

    /// The shortest route through `points` in order, from and to the exact snapped position of
    /// each on its nearest road segment, by distance or by travel time. A route may begin or end
    /// part-way along a segment, and goes only the ways the roads may be travelled.
    public func route(through points: [Coordinate], weight: RoadGraph.Weight = .distance) throws(ComputeError) -> Route {
        guard points.count >= 2 else { throw ComputeError(.invalidInput, "a route needs at least two points") }
        var snaps: [Snap] = []
        for p in points { snaps.append(try snap(p)) }
        var coords: [Coordinate] = [snaps[0].point]
        var length = 0.0
        var time = 0.0
        var roads: [String] = []
        func travel(_ part: Partial, end: Coordinate) {
            let stretch = abs(part.to - part.from)
            length += stretch * graph.lengths[part.edge]
            time += stretch * graph.times[part.edge]
            if coords.last != end { coords.append(end) }
            let r = graph.road(ofEdge: part.edge)
            if stretch > 0 && roads.last != r { roads.append(r) }
        }
        for (a, b) in zip(snaps, snaps.dropFirst()) {
            let out = departures(a, weight: weight)
            let into = arrivals(b, weight: weight)
            let straight = direct(a, b, weight: weight)
            let straightCost = straight.map { abs($0.to - $0.from) * graph.cost($0.edge, weight) } ?? .infinity
            if let leg = graph.shortestPath(from: out.map(\.0), to: into.map(\.0), weight: weight, bound: straightCost) {
                let first = out.first { $0.0.node == leg.source }!.1
                let last = into.first { $0.0.node == leg.target }!.1
                travel(first, end: graph.coordinates[leg.source])
                for e in leg.edges { travel(Partial(edge: e, from: 0, to: 1), end: graph.coordinates[graph.target(ofEdge: e)]) }
                travel(last, end: b.point)
            } else if let straight {
                travel(straight, end: b.point)
            } else {
                throw ComputeError(
                    .unreachable,
                    "no route from (\(a.input.lon), \(a.input.lat)) to (\(b.input.lon), \(b.input.lat)) on this network (one-way "
                        + "streets or a disconnected part)"
                )
            }
        }
        return Route(coordinates: coords, length: length, time: time, roads: roads, snapped: snaps)
    }

    /// What is reachable within a budget: the nodes with their costs, and the hull around them.
    public struct Isochrone: Sendable, Equatable, Encodable {
        public let start: Snap
        public let budget: Double
        public let weight: RoadGraph.Weight
        /// The reachable network: each reachable node's position and cost.
        public let nodes: [Coordinate]
        public let costs: [Double]
        /// The convex hull of the reachable nodes (a closed ring), the documented polygon kind.
        public let hull: [Coordinate]
    }

    /// Everything reachable within `budget` (metres, or seconds with `.time`) from a point,
    /// counted from its exact snapped position.
    public func isochrone(from p: Coordinate, budget: Double, weight: RoadGraph.Weight = .distance) throws(ComputeError) -> Isochrone {
        guard budget.isFinite, budget >= 0 else { throw ComputeError(.invalidInput, "the budget must be a non-negative number") }
        let start = try snap(p)
        let reached = graph.reachable(from: departures(start, weight: weight).map(\.0), budget: budget, weight: weight)
        let nodes = reached.map { graph.coordinates[$0.node] }
        return Isochrone(
            start: start,
            budget: budget,
            weight: weight,
            nodes: nodes,
            costs: reached.map(\.cost),
            hull: Planar.convexHull(nodes)
        )
    }
}
