import Foundation
import Synchronization

/// A road network as a directed graph in compressed sparse row form: nodes are the distinct
/// vertices of the roads (positions equal to 1e-7 degrees are one node), edges the segments
/// between consecutive vertices, one per direction the road may be travelled. Built once per
/// content of the road files and shared by every query on it.
public final class RoadGraph: Sendable {
    public let nodeCount: Int
    public let coordinates: [Coordinate]
    /// Edges leaving node `u` are `offsets[u] ..< offsets[u+1]`.
    let offsets: [Int32]
    let targets: [Int32]
    public let lengths: [Double]
    public let times: [Double]
    let roadOf: [Int32]
    public let roadIDs: [String]
    /// Per edge: metres along its road (from the road's first position) where the edge starts,
    /// and whether it runs the way the road is drawn; per road: its length. A point on an edge
    /// is thus placed along its road, as snapping reports it.
    let along: [Double]
    let alongForward: [Bool]
    let roadLengths: [Double]
    /// Per node: its position as a point of the unit sphere (x, y, z interleaved), for the A*
    /// estimate; and the least seconds per metre of any edge, to turn distance into time.
    let unit: [Double]
    let minSecondsPerMetre: Double
    /// Whether each node is reachable from the largest strongly connected part of the network.
    /// Everything reachable from such a node is too, so a target outside it cannot be reached
    /// from there: the query answers at once instead of exploring the whole city to find out.
    let downstreamOfCore: [Bool]
    /// Whether each node is in that largest strongly connected part (where landmarks are chosen).
    let inCore: [Bool]
    private let landmarkTables = Mutex<[Weight: Landmarks]>([:])
    private let searchers = Mutex<[Searcher]>([])

    public var edgeCount: Int { targets.count }

    /// What a route minimizes: metres, or seconds at each road's speed.
    public enum Weight: String, Sendable, Codable { case distance, time }

    /// Builds the graph of `roads`, keeping only the `highway` classes in `classes` when given.
    public init(roads: [Road], classes: Set<String>? = nil) throws(ComputeError) {
        var index: [Int64: Int32] = [:]
        var coords: [Coordinate] = []
        func key(_ c: Coordinate) -> Int64 {
            let x = Int64((c.lon * 1e7 + 0.5).rounded(.down))
            let y = Int64((c.lat * 1e7 + 0.5).rounded(.down))
            return x &* 4_000_000_000 &+ y
        }
        func node(_ c: Coordinate) -> Int32 {
            let k = key(c)
            if let n = index[k] { return n }
            let n = Int32(coords.count)
            index[k] = n
            coords.append(c)
            return n
        }
        var from: [Int32] = []
        var to: [Int32] = []
        var len: [Double] = []
        var time: [Double] = []
        var road: [Int32] = []
        var start: [Double] = []
        var forward: [Bool] = []
        var ids: [String] = []
        var roadLengths: [Double] = []
        for r in roads {
            if let classes, !classes.contains(r.tags["highway"] ?? "") { continue }
            guard r.coordinates.count >= 2 else { continue }
            for c in r.coordinates where !c.isValid {
                throw ComputeError(.invalidInput, "road \(r.id) has a coordinate out of range (\(c.lon), \(c.lat))")
            }
            let rid = Int32(ids.count)
            ids.append(r.id)
            let speed = r.speedKmh / 3.6
            let dir = r.direction
            var position = 0.0
            for (a, b) in zip(r.coordinates, r.coordinates.dropFirst()) {
                let u = node(a)
                let v = node(b)
                let d = Haversine.distance(a, b)
                defer { position += d }
                if u == v { continue }
                if dir >= 0 {
                    from.append(u)
                    to.append(v)
                    len.append(d)
                    time.append(d / speed)
                    road.append(rid)
                    start.append(position)
                    forward.append(true)
                }
                if dir <= 0 {
                    from.append(v)
                    to.append(u)
                    len.append(d)
                    time.append(d / speed)
                    road.append(rid)
                    start.append(position + d)
                    forward.append(false)
                }
            }
            roadLengths.append(position)
        }
        let n = coords.count
        var offsets = [Int32](repeating: 0, count: n + 1)
        for u in from { offsets[Int(u) + 1] += 1 }
        for i in 0..<n { offsets[i + 1] += offsets[i] }
        var fill = offsets
        var targets = [Int32](repeating: 0, count: from.count)
        var lengths = [Double](repeating: 0, count: from.count)
        var times = [Double](repeating: 0, count: from.count)
        var roadOf = [Int32](repeating: 0, count: from.count)
        var along = [Double](repeating: 0, count: from.count)
        var alongForward = [Bool](repeating: true, count: from.count)
        for e in from.indices {
            let u = Int(from[e])
            let slot = Int(fill[u])
            fill[u] += 1
            targets[slot] = to[e]
            lengths[slot] = len[e]
            times[slot] = time[e]
            roadOf[slot] = road[e]
            along[slot] = start[e]
            alongForward[slot] = forward[e]
        }
        self.nodeCount = n
        self.coordinates = coords
        self.offsets = offsets
        self.targets = targets
        self.lengths = lengths
        self.times = times
        self.roadOf = roadOf
        self.roadIDs = ids
        self.along = along
        self.alongForward = alongForward
        self.roadLengths = roadLengths
        var unit = [Double](repeating: 0, count: coords.count * 3)
        for (i, c) in coords.enumerated() {
            let lat = c.lat * .pi / 180
            let lon = c.lon * .pi / 180
            unit[3 * i] = cos(lat) * cos(lon)
            unit[3 * i + 1] = cos(lat) * sin(lon)
            unit[3 * i + 2] = sin(lat)
        }
        self.unit = unit
        var least = Double.infinity
        for e in lengths.indices where lengths[e] > 0 { least = min(least, times[e] / lengths[e]) }
        minSecondsPerMetre = least.isFinite ? least : 0
        (downstreamOfCore, inCore) = Self.downstreamOfLargestComponent(n: n, offsets: offsets, targets: targets)
    }

    /// Tarjan's strongly connected components (iteratively, so deep graphs cannot overflow the
    /// stack), then everything reachable from the largest one.
    static func downstreamOfLargestComponent(n: Int, offsets: [Int32], targets: [Int32]) -> (downstream: [Bool], core: [Bool]) {
        guard n > 0 else { return ([], []) }
        var index = [Int32](repeating: -1, count: n)
        var low = [Int32](repeating: 0, count: n)
        var comp = [Int32](repeating: -1, count: n)
        var onStack = [Bool](repeating: false, count: n)
        var stack: [Int32] = []
        var call: [(node: Int32, edge: Int32)] = []
        var next: Int32 = 0
        var components: Int32 = 0
        var sizes: [Int] = []
        for root in 0..<n where index[root] < 0 {
            call.append((Int32(root), offsets[root]))
            index[root] = next
            low[root] = next
            next += 1
            stack.append(Int32(root))
            onStack[root] = true
            while let (u, e) = call.last {
                let ui = Int(u)
                if e < offsets[ui + 1] {
                    call[call.count - 1].edge = e + 1
                    let v = Int(targets[Int(e)])
                    if index[v] < 0 {
                        index[v] = next
                        low[v] = next
                        next += 1
                        stack.append(Int32(v))
                        onStack[v] = true
                        call.append((Int32(v), offsets[v]))
                    } else if onStack[v] {
                        low[ui] = min(low[ui], index[v])
                    }
                } else {
                    call.removeLast()
                    if let parent = call.last { low[Int(parent.node)] = min(low[Int(parent.node)], low[ui]) }
                    if low[ui] == index[ui] {
                        var size = 0
                        while let w = stack.popLast() {
                            onStack[Int(w)] = false
                            comp[Int(w)] = components
                            size += 1
                            if w == u { break }
                        }
                        sizes.append(size)
                        components += 1
                    }
                }
            }
        }
        let core = Int32(sizes.indices.max { sizes[$0] < sizes[$1] }!)
        var reached = [Bool](repeating: false, count: n)
        var queue: [Int32] = []
        for v in 0..<n where comp[v] == core {
            reached[v] = true
            queue.append(Int32(v))
        }
        let inCore = reached
        var head = 0
        while head < queue.count {
            let u = Int(queue[head])
            head += 1
            for e in Int(offsets[u])..<Int(offsets[u + 1]) where !reached[Int(targets[e])] {
                reached[Int(targets[e])] = true
                queue.append(targets[e])
            }
        }
        return (reached, inCore)
    }

    /// The landmark tables for a weight, computed on first use and kept.
    func landmarks(_ weight: Weight) -> Landmarks {
        if let known = landmarkTables.withLock({ $0[weight] }) { return known }
        let made = Landmarks(graph: self, weight: weight)
        return landmarkTables.withLock { tables in
            if let known = tables[weight] { return known }
            tables[weight] = made
            return made
        }
    }

    /// Computes the landmark tables for a weight now rather than on the first query (a server
    /// may warm a graph it has just built; the benchmark times this step on its own).
    public func prepareLandmarks(_ weight: Weight = .distance) { _ = landmarks(weight) }

    // MARK: Search

    /// Reusable search state: a run stamps the nodes it touches, so a query costs what it
    /// visits, not the size of the graph.
    final class Searcher: @unchecked Sendable {
        // @unchecked: taken from the pool by one query at a time and given back after.
        var dist: [Double]
        var prev: [Int32]
        var stamp: [UInt32]
        var epoch: UInt32 = 0
        var heap = MinHeap()

        init(_ n: Int) {
            dist = [Double](repeating: .infinity, count: n)
            prev = [Int32](repeating: -1, count: n)
            stamp = [UInt32](repeating: 0, count: n)
        }

        func reset() {
            epoch &+= 1
            if epoch == 0 {
                for i in stamp.indices { stamp[i] = 0 }
                epoch = 1
            }
            heap.removeAll()
        }

        func distance(_ u: Int32) -> Double { stamp[Int(u)] == epoch ? dist[Int(u)] : .infinity }
    }

    /// A binary min-heap of (cost, node), a plain value so the search loop touches no class state.
    struct MinHeap {
        /// `cost` orders the heap (the cost so far plus the estimate); `g` is the cost so far.
        struct Entry {
            var cost: Double
            var g: Double
            var node: Int32
        }
        var items: ContiguousArray<Entry> = []

        mutating func removeAll() { items.removeAll(keepingCapacity: true) }

        @inline(__always) mutating func push(_ cost: Double, _ g: Double, _ node: Int32) {
            items.append(Entry(cost: cost, g: g, node: node))
            var i = items.count - 1
            let e = items[i]
            while i > 0 {
                let parent = (i - 1) >> 1
                if items[parent].cost <= e.cost { break }
                items[i] = items[parent]
                i = parent
            }
            items[i] = e
        }

        @inline(__always) mutating func pop() -> Entry? {
            guard let top = items.first else { return nil }
            let last = items.removeLast()
            let n = items.count
            if n > 0 {
                var i = 0
                while true {
                    let l = 2 * i + 1
                    if l >= n { break }
                    let r = l + 1
                    let m = r < n && items[r].cost < items[l].cost ? r : l
                    if items[m].cost >= last.cost { break }
                    items[i] = items[m]
                    i = m
                }
                items[i] = last
            }
            return top
        }
    }

    func withSearcher<T>(_ body: (Searcher) throws -> T) rethrows -> T {
        let s = searchers.withLock { $0.popLast() } ?? Searcher(nodeCount)
        defer { searchers.withLock { if $0.count < 8 { $0.append(s) } } }
        s.reset()
        return try body(s)
    }

    /// Where a search starts or ends: a node, and what getting from the start to it (or from it
    /// to the end) costs beyond the graph: the part of a road segment between a snapped point
    /// and the segment's end.
    public struct Endpoint: Sendable, Equatable {
        public let node: Int
        public let cost: Double

        public init(node: Int, cost: Double = 0) {
            self.node = node
            self.cost = cost
        }
    }

    /// Dijkstra from `sources`, to the cheapest of up to two `targets` (each with its extra
    /// cost) or, without targets, to everything within `budget`. `visit` sees each node as it is
    /// settled, with its cost. A search stops once nothing left can beat `bound` or the best
    /// target found. Returns that best cost and the target reached (-1: none). The loop runs on
    /// raw buffers: array accesses through a class would each pay an exclusivity check and a retain.
    func search(
        _ s: Searcher,
        from sources: [Endpoint],
        to targets: [Endpoint],
        weight: Weight,
        budget: Double = .infinity,
        bound: Double = .infinity,
        visit: ((Int32, Double) -> Void)? = nil
    ) -> (cost: Double, target: Int32) {
        precondition(targets.count <= 2, "a search ends at one or two nodes")
        let epoch = s.epoch
        var heap = s.heap
        s.heap = MinHeap()
        defer { s.heap = heap }
        // A* toward the targets, with two lower bounds on what is left from v to a target t:
        // - the straight chord through the Earth, never longer than the great-circle distance,
        //   which is never longer than the road distance (each edge is the great-circle length
        //   of its segment);
        // - the landmark bounds (see `Landmarks`), which follow the roads.
        // Each is consistent, so their larger is; with two targets the estimate is the lesser of
        // each target's estimate plus its extra cost, also consistent: the first time a node is
        // settled its cost is the least. Both are shaded (by 1e-9, and the landmark bound by a
        // further micrometre) so that rounding cannot make them overshoot. Without targets (an
        // isochrone) this is plain Dijkstra.
        let scale = Haversine.earthRadius * (weight == .distance ? 1 : minSecondsPerMetre) * (1 - 1e-9)
        let goal0 = targets.first.map { Int32($0.node) } ?? -1
        let extra0 = targets.first?.cost ?? 0
        let goal1 = targets.count > 1 ? Int32(targets[1].node) : -1
        let extra1 = targets.count > 1 ? targets[1].cost : 0
        func xyz(_ t: Int32) -> (Double, Double, Double) {
            t >= 0 ? (unit[3 * Int(t)], unit[3 * Int(t) + 1], unit[3 * Int(t) + 2]) : (0, 0, 0)
        }
        let (tx, ty, tz) = xyz(goal0)
        let (ux, uy, uz) = xyz(goal1)
        let hasGoal = goal0 >= 0
        let hasSecond = goal1 >= 0
        // Per target, the active landmarks (column index) and the target's own distances from
        // and to each: (column, d(L, t), d(t, L)).
        let marks = hasGoal ? landmarks(weight) : nil
        let k = marks?.count ?? 0
        func bounds(_ t: Int32) -> [(Int, Double, Double)] {
            guard let marks, t >= 0, let s = sources.first?.node else { return [] }
            return marks.active(source: s, target: Int(t)).map { ($0, marks.from[Int(t) * k + $0], marks.to[Int(t) * k + $0]) }
        }
        let bounds0 = bounds(goal0)
        let bounds1 = bounds(goal1)
        var best = bound
        var reached: Int32 = -1
        (weight == .distance ? lengths : times).withUnsafeBufferPointer { w in
            unit.withUnsafeBufferPointer { xyz in
                (marks?.from ?? []).withUnsafeBufferPointer { lmFrom in
                    (marks?.to ?? []).withUnsafeBufferPointer { lmTo in
                        @inline(__always) func landmark(_ v: Int, _ bs: [(Int, Double, Double)]) -> Double {
                            var h = 0.0
                            for (i, dLt, dtL) in bs {
                                h = max(h, dLt - lmFrom[v * k + i], lmTo[v * k + i] - dtL)
                            }
                            return h - 1e-6 - 1e-9 * h
                        }
                        @inline(__always) func estimate(_ v: Int) -> Double {
                            guard hasGoal else { return 0 }
                            let x = xyz[3 * v]
                            let y = xyz[3 * v + 1]
                            let z = xyz[3 * v + 2]
                            let dx = x - tx
                            let dy = y - ty
                            let dz = z - tz
                            var h = max((dx * dx + dy * dy + dz * dz).squareRoot() * scale, landmark(v, bounds0)) + extra0
                            if hasSecond {
                                let ex = x - ux
                                let ey = y - uy
                                let ez = z - uz
                                h = min(h, max((ex * ex + ey * ey + ez * ez).squareRoot() * scale, landmark(v, bounds1)) + extra1)
                            }
                            return h
                        }
                        offsets.withUnsafeBufferPointer { off in
                            self.targets.withUnsafeBufferPointer { tg in
                                s.dist.withUnsafeMutableBufferPointer { dist in
                                    s.prev.withUnsafeMutableBufferPointer { prev in
                                        s.stamp.withUnsafeMutableBufferPointer { stamp in
                                            for source in sources where source.cost <= budget {
                                                let u = source.node
                                                guard stamp[u] != epoch || source.cost < dist[u] else { continue }
                                                stamp[u] = epoch
                                                dist[u] = source.cost
                                                prev[u] = -1
                                                let h = estimate(u)
                                                if h < Landmarks.cannotReach { heap.push(source.cost + h, source.cost, Int32(u)) }
                                            }
                                            while let top = heap.pop() {
                                                if top.cost >= best { break }  // nothing left can beat what is found
                                                let u = Int(top.node)
                                                let d = top.g
                                                if d > dist[u] { continue }  // a stale entry: a cheaper way here was found since
                                                visit?(top.node, d)
                                                if top.node == goal0 && d + extra0 < best {
                                                    best = d + extra0
                                                    reached = goal0
                                                }
                                                if top.node == goal1 && d + extra1 < best {
                                                    best = d + extra1
                                                    reached = goal1
                                                }
                                                for e in Int(off[u])..<Int(off[u + 1]) {
                                                    let v = Int(tg[e])
                                                    let nd = d + w[e]
                                                    if nd <= budget && (stamp[v] != epoch || nd < dist[v]) {
                                                        stamp[v] = epoch
                                                        dist[v] = nd
                                                        prev[v] = Int32(e)
                                                        // A landmark may prove no target reachable from v: then v need not be explored.
                                                        let h = estimate(v)
                                                        if h < Landmarks.cannotReach { heap.push(nd + h, nd, Int32(v)) }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (best, reached)
    }

    /// Whether no target can be reached from any source, known without a search.
    func surelyUnreachable(_ sources: [Endpoint], _ targets: [Endpoint]) -> Bool {
        sources.allSatisfy { downstreamOfCore[$0.node] } && !targets.contains { downstreamOfCore[$0.node] }
    }

    /// The least cost from `source` to `target` (nil: unreachable), with the edges taken.
    public func shortestPath(from source: Int, to target: Int, weight: Weight = .distance) -> (cost: Double, edges: [Int])? {
        shortestPath(from: [Endpoint(node: source)], to: [Endpoint(node: target)], weight: weight).map { ($0.cost, $0.edges) }
    }

    /// The cheapest way from any source to any target (each endpoint with its own extra cost),
    /// or nil when there is none: its total cost, the edges taken, and the endpoints used.
    public func shortestPath(
        from sources: [Endpoint],
        to targets: [Endpoint],
        weight: Weight = .distance,
        bound: Double = .infinity
    )
        -> (cost: Double, edges: [Int], source: Int, target: Int)?
    {
        if surelyUnreachable(sources, targets) { return nil }
        return withSearcher { s in
            let (cost, target) = search(s, from: sources, to: targets, weight: weight, bound: bound)
            guard target >= 0 else { return nil }
            var edges: [Int] = []
            var v = target
            while s.prev[Int(v)] >= 0 {
                let e = s.prev[Int(v)]
                edges.append(Int(e))
                v = sourceOf(edge: Int(e))
            }
            return (cost, edges.reversed(), Int(v), Int(target))
        }
    }

    /// The least cost from `source` to `target` alone (nil: unreachable), without the path.
    public func shortestCost(from source: Int, to target: Int, weight: Weight = .distance) -> Double? {
        let from = [Endpoint(node: source)]
        let to = [Endpoint(node: target)]
        if surelyUnreachable(from, to) { return nil }
        return withSearcher { s in
            let (cost, reached) = search(s, from: from, to: to, weight: weight)
            return reached >= 0 ? cost : nil
        }
    }

    /// Every node whose least cost from `source` is within `budget`, with that cost.
    public func reachable(from source: Int, budget: Double, weight: Weight = .distance) -> [(node: Int, cost: Double)] {
        reachable(from: [Endpoint(node: source)], budget: budget, weight: weight)
    }

    /// Every node whose least cost from any of `sources` (with their starting costs) is within `budget`.
    public func reachable(from sources: [Endpoint], budget: Double, weight: Weight = .distance) -> [(node: Int, cost: Double)] {
        withSearcher { s in
            var out: [(Int, Double)] = []
            _ = search(s, from: sources, to: [], weight: weight, budget: budget) { u, d in out.append((Int(u), d)) }
            return out
        }
    }

    /// An edge's weight: metres or seconds.
    public func cost(_ e: Int, _ weight: Weight) -> Double { weight == .distance ? lengths[e] : times[e] }

    /// The edge from `u` to `v` of least weight, if the graph has one.
    public func edge(from u: Int, to v: Int, weight: Weight = .distance) -> Int? {
        var best: Int?
        for e in Int(offsets[u])..<Int(offsets[u + 1]) where Int(targets[e]) == v {
            if best.map({ cost(e, weight) < cost($0, weight) }) ?? true { best = e }
        }
        return best
    }

    /// Where a point `t` of the way along edge `e` lies on the edge's road: metres from the
    /// road's first position, and that as a fraction of the road's length.
    public func placeOnRoad(edge e: Int, fraction t: Double) -> (offset: Double, fraction: Double) {
        let offset = along[e] + (alongForward[e] ? 1 : -1) * t * lengths[e]
        let total = roadLengths[Int(roadOf[e])]
        return (offset, total > 0 ? min(1, max(0, offset / total)) : 0)
    }

    /// The node an edge leaves (a binary search over the offsets).
    public func source(ofEdge e: Int) -> Int { Int(sourceOf(edge: e)) }

    func sourceOf(edge e: Int) -> Int32 {
        var lo = 0
        var hi = nodeCount - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if Int(offsets[mid]) <= e { lo = mid } else { hi = mid - 1 }
        }
        return Int32(lo)
    }

    /// The node an edge leads to.
    public func target(ofEdge e: Int) -> Int { Int(targets[e]) }
    /// The road (file id) an edge belongs to, for naming a route's roads.
    public func road(ofEdge e: Int) -> String { roadIDs[Int(roadOf[e])] }
}
