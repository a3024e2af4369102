import Foundation
import Synchronization

/// Distances to and from a few landmarks on the edge of the network, for A* with landmarks
/// (ALT; Goldberg & Harrelson, "Computing the shortest path: A* search meets graph theory",
/// SODA 2005). By the triangle inequality, d(v, t) ≥ d(L, t) − d(L, v) and d(v, t) ≥ d(v, L) −
/// d(t, L) for every landmark L: a lower bound that follows the roads, much tighter than the
/// straight line where streets wind, so a route search settles far fewer nodes.
///
/// Tables are per weight, computed on the first route query by that weight (two full searches
/// per landmark, run in parallel) and kept with the graph.
final class Landmarks: Sendable {
    /// Landmark count, and per node `k` consecutive distances: `from[v·k + i]` = d(Lᵢ, v),
    /// `to[v·k + i]` = d(v, Lᵢ). Unreachable is `Landmarks.unreachable`, a large finite value,
    /// so differences stay numbers: a bound of about 1e300 then says the target cannot be
    /// reached from v at all, which is true (see `RoadGraph.search`).
    let count: Int
    let nodes: [Int]
    let from: [Double]
    let to: [Double]
    static let unreachable = 1e300
    /// An estimate this large is a proof that no target can be reached (no road distance comes near).
    static let cannotReach = 1e299

    init(graph g: RoadGraph, weight: RoadGraph.Weight, count wanted: Int = 8) {
        let nodes = Self.choose(g, count: wanted)
        let k = nodes.count
        let w = weight == .distance ? g.lengths : g.times
        // The reverse graph, for distances *to* each landmark.
        let n = g.nodeCount
        var roffsets = [Int32](repeating: 0, count: n + 1)
        for v in g.targets { roffsets[Int(v) + 1] += 1 }
        for i in 0..<n { roffsets[i + 1] += roffsets[i] }
        var fill = roffsets
        var rtargets = [Int32](repeating: 0, count: g.edgeCount)
        var rweights = [Double](repeating: 0, count: g.edgeCount)
        for u in 0..<n {
            for e in Int(g.offsets[u])..<Int(g.offsets[u + 1]) {
                let v = Int(g.targets[e])
                let slot = Int(fill[v])
                fill[v] += 1
                rtargets[slot] = Int32(u)
                rweights[slot] = w[e]
            }
        }
        let reverse = (offsets: roffsets, targets: rtargets, weights: rweights)
        let tables = Mutex([[Double]](repeating: [], count: 2 * k))
        DispatchQueue.concurrentPerform(iterations: 2 * k) { job in
            let d =
                job < k
                ? Self.distances(from: nodes[job], offsets: g.offsets, targets: g.targets, weights: w)
                : Self.distances(from: nodes[job - k], offsets: reverse.offsets, targets: reverse.targets, weights: reverse.weights)
            tables.withLock { $0[job] = d }
        }
        let all = tables.withLock { $0 }
        var from = [Double](repeating: Self.unreachable, count: n * k)
        var to = from
        for i in 0..<k {
            let f = all[i]
            let t = all[k + i]
            for v in 0..<n {
                from[v * k + i] = f[v]
                to[v * k + i] = t[v]
            }
        }
        self.count = k
        self.nodes = nodes
        self.from = from
        self.to = to
    }

    /// Landmarks spread around the network's edge: the node of the largest strongly connected
    /// part farthest from its centre in each of `count` equal sectors of direction.
    static func choose(_ g: RoadGraph, count: Int) -> [Int] {
        let core = (0..<g.nodeCount).filter { g.inCore[$0] }
        guard !core.isEmpty else { return [] }
        let cLon = core.reduce(0.0) { $0 + g.coordinates[$1].lon } / Double(core.count)
        let cLat = core.reduce(0.0) { $0 + g.coordinates[$1].lat } / Double(core.count)
        let k = cos(cLat * .pi / 180)
        var best = [(node: Int, d2: Double)](repeating: (-1, -1), count: count)
        for v in core {
            let x = (g.coordinates[v].lon - cLon) * k
            let y = g.coordinates[v].lat - cLat
            let sector = min(count - 1, Int((atan2(y, x) + .pi) / (2 * .pi) * Double(count)))
            let d2 = x * x + y * y
            if d2 > best[sector].d2 { best[sector] = (v, d2) }
        }
        return best.map(\.node).filter { $0 >= 0 }
    }

    /// Plain Dijkstra over a CSR graph: every node's distance from `source`.
    static func distances(from source: Int, offsets: [Int32], targets: [Int32], weights: [Double]) -> [Double] {
        var dist = [Double](repeating: unreachable, count: offsets.count - 1)
        var heap = RoadGraph.MinHeap()
        dist[source] = 0
        heap.push(0, 0, Int32(source))
        while let top = heap.pop() {
            let u = Int(top.node)
            if top.g > dist[u] { continue }
            for e in Int(offsets[u])..<Int(offsets[u + 1]) {
                let v = Int(targets[e])
                let nd = top.g + weights[e]
                if nd < dist[v] {
                    dist[v] = nd
                    heap.push(nd, nd, Int32(v))
                }
            }
        }
        return dist
    }

    /// The best `active` landmarks for one query: those giving the largest bound at the source.
    func active(source s: Int, target t: Int, limit: Int = 4) -> [Int] {
        let k = count
        func bound(_ i: Int) -> Double { max(from[t * k + i] - from[s * k + i], to[s * k + i] - to[t * k + i]) }
        return (0..<k).sorted { bound($0) > bound($1) }.prefix(limit).map { $0 }
    }
}
