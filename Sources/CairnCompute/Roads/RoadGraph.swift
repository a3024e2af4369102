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
        var heap: [(Double, Int32)] = []

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
            heap.removeAll(keepingCapacity: true)
        }

        @inline(__always) func distance(_ u: Int32) -> Double { stamp[Int(u)] == epoch ? dist[Int(u)] : .infinity }

        @inline(__always) func set(_ u: Int32, _ d: Double, _ p: Int32) {
            stamp[Int(u)] = epoch
            dist[Int(u)] = d
            prev[Int(u)] = p
        }

        func push(_ d: Double, _ u: Int32) {
            heap.append((d, u))
            var i = heap.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                if heap[parent].0 <= heap[i].0 { break }
                heap.swapAt(parent, i)
                i = parent
            }
        }

        func pop() -> (Double, Int32)? {
            guard let top = heap.first else { return nil }
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < heap.count && heap[l].0 < heap[m].0 { m = l }
                    if r < heap.count && heap[r].0 < heap[m].0 { m = r }
                    if m == i { break }
                    heap.swapAt(m, i)
                    i = m
                }
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
    /// `visit` sees each node as it is settled, with its cost.
    func dijkstra(_ s: Searcher, from source: Int32, to target: Int32?, weight: Weight, budget: Double = .infinity, visit: (Int32, Double) -> Void = { _, _ in }) {
        let w = weight == .distance ? lengths : times
        s.set(source, 0, -1)
        s.push(0, source)
        while let (d, u) = s.pop() {
            if d > s.distance(u) { continue }
            visit(u, d)
            if u == target { return }
            let start = Int(offsets[Int(u)]), end = Int(offsets[Int(u) + 1])
            for e in start..<end {
                let v = targets[e], nd = d + w[e]
                if nd <= budget && nd < s.distance(v) {
                    s.set(v, nd, Int32(e))
                    s.push(nd, v)
                }
            }
        }
    }

    /// The least cost from `source` to `target` (nil: unreachable), with the edges taken.
    public func shortestPath(from source: Int, to target: Int, weight: Weight = .distance) -> (cost: Double, edges: [Int])? {
        withSearcher { s in
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

    /// Every node whose least cost from `source` is within `budget`, with that cost.
    public func reachable(from source: Int, budget: Double, weight: Weight = .distance) -> [(node: Int, cost: Double)] {
        withSearcher { s in
            var out: [(Int, Double)] = []
            dijkstra(s, from: Int32(source), to: nil, weight: weight, budget: budget) { u, d in out.append((Int(u), d)) }
            return out
        }
    }

    /// The node an edge leaves (a binary search over the offsets).
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
