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
    /// Per node: its position as a point of the unit sphere (x, y, z interleaved), for the A*
    /// estimate; and the least seconds per metre of any edge, to turn distance into time.
    let unit: [Double]
    let minSecondsPerMetre: Double
    /// Whether each node is reachable from the largest strongly connected part of the network.
    /// Everything reachable from such a node is too, so a target outside it cannot be reached
    /// from there: the query answers at once instead of exploring the whole city to find out.
    let downstreamOfCore: [Bool]
    private let searchers = Mutex<[Searcher]>([])

    public var edgeCount: Int { targets.count }

    public enum Weight: String, Sendable, Codable { case distance, time }

    /// Builds the graph of `roads`, keeping only the `highway` classes in `classes` when given.
    public init(roads: [Road], classes: Set<String>? = nil) throws(ComputeError) {
        var index: [Int64: Int32] = [:]
        var coords: [Coordinate] = []
        func key(_ c: Coordinate) -> Int64 {
            let x = Int64((c.lon * 1e7 + 0.5).rounded(.down)), y = Int64((c.lat * 1e7 + 0.5).rounded(.down))
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
        var from: [Int32] = [], to: [Int32] = [], len: [Double] = [], time: [Double] = [], road: [Int32] = []
        var ids: [String] = []
        for r in roads {
            if let classes, !classes.contains(r.tags["highway"] ?? "") { continue }
            guard r.coordinates.count >= 2 else { continue }
            for c in r.coordinates where !c.isValid {
                throw ComputeError(.invalidInput, "road \(r.id) has a coordinate out of range (\(c.lon), \(c.lat))")
            }
            let rid = Int32(ids.count)
            ids.append(r.id)
            let speed = r.speedKmh / 3.6, dir = r.direction
            for (a, b) in zip(r.coordinates, r.coordinates.dropFirst()) {
                let u = node(a), v = node(b)
                if u == v { continue }
                let d = Haversine.distance(a, b)
                if dir >= 0 { from.append(u); to.append(v); len.append(d); time.append(d / speed); road.append(rid) }
                if dir <= 0 { from.append(v); to.append(u); len.append(d); time.append(d / speed); road.append(rid) }
            }
        }
        let n = coords.count
        var offsets = [Int32](repeating: 0, count: n + 1)
        for u in from { offsets[Int(u) + 1] += 1 }
        for i in 0..<n { offsets[i + 1] += offsets[i] }
        var fill = offsets
        var targets = [Int32](repeating: 0, count: from.count), lengths = [Double](repeating: 0, count: from.count)
        var times = [Double](repeating: 0, count: from.count), roadOf = [Int32](repeating: 0, count: from.count)
        for e in from.indices {
            let u = Int(from[e]), slot = Int(fill[u])
            fill[u] += 1
            targets[slot] = to[e]
            lengths[slot] = len[e]
            times[slot] = time[e]
            roadOf[slot] = road[e]
        }
        self.nodeCount = n
        self.coordinates = coords
        self.offsets = offsets
        self.targets = targets
        self.lengths = lengths
        self.times = times
        self.roadOf = roadOf
        self.roadIDs = ids
        var unit = [Double](repeating: 0, count: coords.count * 3)
        for (i, c) in coords.enumerated() {
            let φ = c.lat * .pi / 180, λ = c.lon * .pi / 180
            unit[3 * i] = cos(φ) * cos(λ)
            unit[3 * i + 1] = cos(φ) * sin(λ)
            unit[3 * i + 2] = sin(φ)
        }
        self.unit = unit
        var least = Double.infinity
        for e in lengths.indices where lengths[e] > 0 { least = min(least, times[e] / lengths[e]) }
        minSecondsPerMetre = least.isFinite ? least : 0
        downstreamOfCore = Self.downstreamOfLargestComponent(n: n, offsets: offsets, targets: targets)
    }

    /// Tarjan's strongly connected components (iteratively, so deep graphs cannot overflow the
    /// stack), then everything reachable from the largest one.
    static func downstreamOfLargestComponent(n: Int, offsets: [Int32], targets: [Int32]) -> [Bool] {
        guard n > 0 else { return [] }
        var index = [Int32](repeating: -1, count: n), low = [Int32](repeating: 0, count: n), comp = [Int32](repeating: -1, count: n)
        var onStack = [Bool](repeating: false, count: n)
        var stack: [Int32] = [], call: [(node: Int32, edge: Int32)] = []
        var next: Int32 = 0, components: Int32 = 0
        var sizes: [Int] = []
        for root in 0..<n where index[root] < 0 {
            call.append((Int32(root), offsets[root]))
            index[root] = next; low[root] = next; next += 1
            stack.append(Int32(root)); onStack[root] = true
            while let (u, e) = call.last {
                let ui = Int(u)
                if e < offsets[ui + 1] {
                    call[call.count - 1].edge = e + 1
                    let v = Int(targets[Int(e)])
                    if index[v] < 0 {
                        index[v] = next; low[v] = next; next += 1
                        stack.append(Int32(v)); onStack[v] = true
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
        for v in 0..<n where comp[v] == core { reached[v] = true; queue.append(Int32(v)) }
        var head = 0
        while head < queue.count {
            let u = Int(queue[head]); head += 1
            for e in Int(offsets[u])..<Int(offsets[u + 1]) where !reached[Int(targets[e])] {
                reached[Int(targets[e])] = true
                queue.append(targets[e])
            }
        }
        return reached
    }

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
        struct Entry { var cost: Double; var g: Double; var node: Int32 }
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

    /// Dijkstra from `source`, stopping at `target` (if given) or when costs exceed `budget`.
    /// `visit` sees each node as it is settled, with its cost. The loop runs on raw buffers:
    /// array accesses through a class would each pay an exclusivity check and a retain.
    func dijkstra(_ s: Searcher, from source: Int32, to target: Int32?, weight: Weight, budget: Double = .infinity, visit: ((Int32, Double) -> Void)? = nil) {
        let epoch = s.epoch
        var heap = s.heap
        s.heap = MinHeap()
        defer { s.heap = heap }
        let goal = target ?? -1
        // A* toward a target. The straight chord through the Earth to the target is never longer
        // than the great-circle distance, which is never longer than the road distance (each
        // edge is the great-circle length of its segment): so the first time the target is
        // settled its cost is the least. The chord costs one square root; the estimate is
        // shaded by 1e-9 so rounding cannot make it overshoot. Without a target (an isochrone)
        // this is plain Dijkstra.
        let scale = Haversine.earthRadius * (weight == .distance ? 1 : minSecondsPerMetre) * (1 - 1e-9)
        let t = Int(goal)
        let tx = t >= 0 ? unit[3 * t] : 0, ty = t >= 0 ? unit[3 * t + 1] : 0, tz = t >= 0 ? unit[3 * t + 2] : 0
        let hasGoal = t >= 0
        (weight == .distance ? lengths : times).withUnsafeBufferPointer { w in
            unit.withUnsafeBufferPointer { xyz in
            @inline(__always) func estimate(_ v: Int) -> Double {
                guard hasGoal else { return 0 }
                let dx = xyz[3 * v] - tx, dy = xyz[3 * v + 1] - ty, dz = xyz[3 * v + 2] - tz
                return (dx * dx + dy * dy + dz * dz).squareRoot() * scale
            }
            offsets.withUnsafeBufferPointer { off in
                targets.withUnsafeBufferPointer { tg in
                    s.dist.withUnsafeMutableBufferPointer { dist in
                        s.prev.withUnsafeMutableBufferPointer { prev in
                            s.stamp.withUnsafeMutableBufferPointer { stamp in
                                stamp[Int(source)] = epoch
                                dist[Int(source)] = 0
                                prev[Int(source)] = -1
                                heap.push(estimate(Int(source)), 0, source)
                                while let top = heap.pop() {
                                    let u = Int(top.node), d = top.g
                                    if d > dist[u] { continue }  // a stale entry: a cheaper way here was found since
                                    visit?(top.node, d)
                                    if top.node == goal { return }
                                    for e in Int(off[u])..<Int(off[u + 1]) {
                                        let v = Int(tg[e]), nd = d + w[e]
                                        if nd <= budget && (stamp[v] != epoch || nd < dist[v]) {
                                            stamp[v] = epoch
                                            dist[v] = nd
                                            prev[v] = Int32(e)
                                            heap.push(nd + estimate(v), nd, Int32(v))
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

    /// The least cost from `source` to `target` (nil: unreachable), with the edges taken.
    public func shortestPath(from source: Int, to target: Int, weight: Weight = .distance) -> (cost: Double, edges: [Int])? {
        if downstreamOfCore[source] && !downstreamOfCore[target] { return nil }
        return withSearcher { s in
            dijkstra(s, from: Int32(source), to: Int32(target), weight: weight)
            let cost = s.distance(Int32(target))
            guard cost.isFinite else { return nil }
            var edges: [Int] = []
            var v = Int32(target)
            while v != Int32(source) {
                let e = s.prev[Int(v)]
                edges.append(Int(e))
                v = sourceOf(edge: Int(e))
            }
            return (cost, edges.reversed())
        }
    }

    /// The least cost from `source` to `target` alone (nil: unreachable), without the path.
    public func shortestCost(from source: Int, to target: Int, weight: Weight = .distance) -> Double? {
        if downstreamOfCore[source] && !downstreamOfCore[target] { return nil }
        return withSearcher { s in
            dijkstra(s, from: Int32(source), to: Int32(target), weight: weight)
            let cost = s.distance(Int32(target))
            return cost.isFinite ? cost : nil
        }
    }

    /// Every node whose least cost from `source` is within `budget`, with that cost.
    public func reachable(from source: Int, budget: Double, weight: Weight = .distance) -> [(node: Int, cost: Double)] {
        withSearcher { s in
            var out: [(Int, Double)] = []
            dijkstra(s, from: Int32(source), to: nil, weight: weight, budget: budget) { u, d in out.append((Int(u), d)) }
            return out
        }
    }

    /// The node an edge leaves (a binary search over the offsets).
    public func source(ofEdge e: Int) -> Int { Int(sourceOf(edge: e)) }

    func sourceOf(edge e: Int) -> Int32 {
        var lo = 0, hi = nodeCount - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if Int(offsets[mid]) <= e { lo = mid } else { hi = mid - 1 }
        }
        return Int32(lo)
    }

    public func target(ofEdge e: Int) -> Int { Int(targets[e]) }
    public func road(ofEdge e: Int) -> String { roadIDs[Int(roadOf[e])] }
}
