import CairnTestSupport
import Foundation
import Testing

@testable import CairnCompute

/// The road graph against networkx (from PyPI, in the test virtualenv) on the Helsinki network:
/// the same graph, built independently, gives the same route lengths and isochrone node sets.
@Suite struct RoadGraphTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let roadsFile = root.deletingLastPathComponent().appendingPathComponent("shared/data/helsinki-roads.geojson")

    static func helsinki() throws -> [Road] {
        try Road.featureCollection(Data(contentsOf: roadsFile))
    }

    static func key(_ c: Coordinate) -> [Int64] {
        [Int64((c.lon * 1e7 + 0.5).rounded(.down)), Int64((c.lat * 1e7 + 0.5).rounded(.down))]
    }

    /// Asks a Python reference of this target (Support/python).
    static func reference(script: String = "route_check.py", _ query: [String: Any]) throws -> [String: Any] {
        try PythonReference.runBlocking("Tests/CairnComputeTests/Support/python/\(script)", query)
    }

    @Test func routesAndIsochronesEqualNetworkxOnHelsinki() throws {
        let graph = try RoadGraph(roads: Self.helsinki())
        #expect(graph.nodeCount > 5000 && graph.edgeCount > 10000, "\(graph.nodeCount) nodes, \(graph.edgeCount) edges")
        var rng = SplitMix64(state: 20_261_126)
        let pairs = (0..<200).map { _ in
            (Int.random(in: 0..<graph.nodeCount, using: &rng), Int.random(in: 0..<graph.nodeCount, using: &rng))
        }
        let sources = (0..<5).map { _ in Int.random(in: 0..<graph.nodeCount, using: &rng) }
        let answer = try Self.reference([
            "roads": Self.roadsFile.path,
            "pairs": pairs.map { [Self.key(graph.coordinates[$0.0]), Self.key(graph.coordinates[$0.1])] },
            "isochrones": sources.map { [Self.key(graph.coordinates[$0]), 1500.0] as [Any] },
        ])
        #expect(answer["nodes"] as? Int == graph.nodeCount)
        let theirs = answer["routes"] as? [Any] ?? []
        #expect(theirs.count == pairs.count)
        var unreachable = 0
        for ((s, t), reference) in zip(pairs, theirs) {
            let ours = graph.shortestPath(from: s, to: t)
            if let length = reference as? Double {
                guard let ours else {
                    Issue.record("networkx routes \(s)→\(t) (\(length) m); we found none")
                    continue
                }
                #expect(abs(ours.cost - length) <= 1e-6 * max(1, length), "\(s)→\(t): \(ours.cost) vs \(length)")
                // The edges taken add up to the cost and chain from s to t.
                #expect(abs(ours.edges.reduce(0) { $0 + graph.lengths[$1] } - ours.cost) < 1e-6)
            } else {
                unreachable += 1
                #expect(ours == nil, "\(s)→\(t): networkx finds no route, we found \(ours?.cost ?? 0)")
            }
        }
        let reach = answer["reachable"] as? [[[Int64]]] ?? []
        for (source, reference) in zip(sources, reach) {
            let ours = graph.reachable(from: source, budget: 1500).map { Self.key(graph.coordinates[$0.node]) }.sorted {
                ($0[0], $0[1]) < ($1[0], $1[1])
            }
            #expect(ours == reference, "isochrone from \(source): \(ours.count) nodes vs \(reference.count)")
        }
        // One-way streets make some pairs unreachable in one direction; the sample must include both kinds.
        #expect(unreachable > 0 && unreachable < pairs.count)
    }

    /// Routes between points part-way along roads: networkx splits the two segments with a
    /// node of their own and runs Dijkstra; ours starts and ends at the snapped positions.
    @Test func routesFromSnappedPositionsEqualNetworkxOnSplitSegments() throws {
        let network = try RoadNetwork(roads: Self.helsinki())
        let graph = network.graph
        var rng = SplitMix64(state: 42)
        func point() -> Coordinate {
            Coordinate(
                lon: 24.90 + Double(rng.next() % 100_000) / 100_000 * 0.08,
                lat: 60.15 + Double(rng.next() % 100_000) / 100_000 * 0.04
            )
        }
        var pairs: [(RoadNetwork.Snap, RoadNetwork.Snap)] = []
        while pairs.count < 100 {
            let a = try network.snap(point())
            let b = try network.snap(point())
            // Two points on one segment need the segment split twice; the direct case has its own test.
            let ends = { (s: RoadNetwork.Snap) in Set([graph.source(ofEdge: s.edge), graph.target(ofEdge: s.edge)]) }
            if ends(a) != ends(b) { pairs.append((a, b)) }
        }
        func segment(_ s: RoadNetwork.Snap) -> [Any] {
            [Self.key(graph.coordinates[graph.source(ofEdge: s.edge)]), Self.key(graph.coordinates[graph.target(ofEdge: s.edge)]), s.along]
        }
        let answer = try Self.reference([
            "roads": Self.roadsFile.path, "pairs": [], "isochrones": [], "snapped": pairs.map { segment($0.0) + segment($0.1) },
        ])
        let theirs = answer["snapped"] as? [Any] ?? []
        #expect(theirs.count == pairs.count)
        var routed = 0
        for ((a, b), reference) in zip(pairs, theirs) {
            let ours = try? network.route(through: [a.input, b.input])
            if let length = reference as? Double {
                routed += 1
                #expect(
                    ours.map { abs($0.length - length) <= 1e-6 * max(1, length) } == true,
                    "\(a.input)→\(b.input): \(ours?.length ?? -1) vs \(length)"
                )
                #expect(ours?.coordinates.first == a.point && ours?.coordinates.last == b.point)
            } else {
                #expect(ours == nil, "networkx finds no route \(a.input)→\(b.input); we found \(ours?.length ?? 0) m")
            }
        }
        // Many random points snap to paths cut off from the rest (the extract ends at its box); both kinds must occur.
        #expect(routed > 30 && routed < pairs.count)
    }

    /// Nodes where a one-way segment meets one that may be travelled both ways: a point exactly
    /// on such a node must be that node (cost 0, every edge meeting there open), not one end of
    /// whichever segment the snap picked.
    static func mixedNodes(_ graph: RoadGraph) -> [Int] {
        var oneWay = [Bool](repeating: false, count: graph.nodeCount)
        var twoWay = [Bool](repeating: false, count: graph.nodeCount)
        for e in 0..<graph.edgeCount {
            let (u, v) = (graph.source(ofEdge: e), graph.target(ofEdge: e))
            let both = graph.edge(from: v, to: u) != nil
            for n in [u, v] {
                if both { twoWay[n] = true } else { oneWay[n] = true }
            }
        }
        return (0..<graph.nodeCount).filter { oneWay[$0] && twoWay[$0] }
    }

    /// Routes and isochrones asked through the network (snapping the points, as Run does), from
    /// and to points exactly on nodes, many of them where one-way and two-way segments meet:
    /// the same lengths as networkx node to node (relative 1e-9), and the same isochrone nodes
    /// with the same costs, the start among them at 0.
    @Test func routesAndIsochronesFromPointsOnNodesEqualNetworkx() throws {
        let network = try RoadNetwork(roads: Self.helsinki())
        let graph = network.graph
        let mixed = Self.mixedNodes(graph)
        #expect(mixed.count > 200, "\(mixed.count) nodes where one-way and two-way segments meet")
        var rng = SplitMix64(state: 20_261_207)
        func anyNode() -> Int { Int.random(in: 0..<graph.nodeCount, using: &rng) }
        func mixedNode() -> Int { mixed[Int.random(in: 0..<mixed.count, using: &rng)] }
        // Both ends at such junctions, one end at one, and plain random nodes; and neighbours
        // (a junction to the nodes next to it), where the wrong end of a one-way segment showed most.
        var pairs = (0..<120).map { _ in (mixedNode(), mixedNode()) } + (0..<60).map { _ in (mixedNode(), anyNode()) }
        pairs += (0..<60).map { _ in (anyNode(), mixedNode()) } + (0..<60).map { _ in (anyNode(), anyNode()) }
        for _ in 0..<100 {
            let n = mixedNode()
            let e = Int(graph.offsets[n]) + Int.random(in: 0..<max(1, Int(graph.offsets[n + 1] - graph.offsets[n])), using: &rng)
            if e < Int(graph.offsets[n + 1]) { pairs += [(n, graph.target(ofEdge: e)), (graph.target(ofEdge: e), n)] }
        }
        let starts = (0..<6).map { _ in mixedNode() } + (0..<2).map { _ in anyNode() }
        let answer = try Self.reference([
            "roads": Self.roadsFile.path,
            "pairs": pairs.map { [Self.key(graph.coordinates[$0.0]), Self.key(graph.coordinates[$0.1])] },
            "isochrones": starts.map { [Self.key(graph.coordinates[$0]), 400.0] as [Any] },
        ])
        /// Our route between two nodes' positions; nil when the network says there is none.
        func route(_ s: Int, _ t: Int) throws -> RoadNetwork.Route? {
            do {
                return try network.route(through: [graph.coordinates[s], graph.coordinates[t]])
            } catch {
                if error.kind == .unreachable { return nil }
                throw error
            }
        }
        let theirs = answer["routes"] as? [Any] ?? []
        #expect(theirs.count == pairs.count)
        var routed = 0
        for ((s, t), reference) in zip(pairs, theirs) {
            let ours = try route(s, t)
            if let length = reference as? Double {
                routed += 1
                guard let ours else {
                    Issue.record("networkx routes node \(s) → \(t) in \(length) m; we found none")
                    continue
                }
                #expect(abs(ours.length - length) <= 1e-9 * max(1, length), "node \(s) → \(t): \(ours.length) m vs networkx \(length) m")
                #expect(ours.coordinates.first == graph.coordinates[s] && ours.coordinates.last == graph.coordinates[t])
            } else {
                #expect(ours == nil, "node \(s) → \(t): networkx finds no route, we found \(ours?.length ?? 0) m")
            }
        }
        #expect(routed > pairs.count / 2 && routed < pairs.count)
        let reach = answer["reachable"] as? [[[Int64]]] ?? []
        let costs = answer["costs"] as? [[Double]] ?? []
        #expect(reach.count == starts.count && costs.count == starts.count)
        for (start, (nodes, references)) in zip(starts, zip(reach, costs)) {
            let isochrone = try network.isochrone(from: graph.coordinates[start], budget: 400)
            var ours: [[Int64]: Double] = [:]
            for (c, cost) in zip(isochrone.nodes, isochrone.costs) { ours[Self.key(c)] = cost }
            #expect(ours[Self.key(graph.coordinates[start])] == 0, "isochrone from node \(start): the start is not in it at 0")
            #expect(Set(ours.keys) == Set(nodes), "isochrone from node \(start): \(ours.count) nodes vs networkx \(nodes.count)")
            for (node, cost) in zip(nodes, references) {
                if let mine = ours[node] { #expect(abs(mine - cost) <= 1e-9 * max(1, cost), "\(node): \(mine) vs \(cost)") }
            }
        }
    }

    /// The issue's own case: two points a footway joins directly, one of them on a node where a
    /// one-way street meets it; the route takes the footway (5.179 m) both ways.
    @Test func aPointOnAJunctionUsesEveryRoadMeetingThere() throws {
        let network = try RoadNetwork(roads: Self.helsinki())
        let a = Coordinate(lon: 24.9451307, lat: 60.1719068)
        let b = Coordinate(lon: 24.9450372, lat: 60.1719043)
        for (from, to) in [(a, b), (b, a)] {
            let route = try network.route(through: [from, to])
            #expect(abs(route.length - Haversine.distance(a, b)) < 1e-9, "\(from) → \(to): \(route.length) m over \(route.roads)")
            #expect(route.roads == ["300219579"], "\(route.roads)")
        }
        let start = Coordinate(lon: 24.9428198, lat: 60.1718177)
        let isochrone = try network.isochrone(from: start, budget: 100)
        #expect(
            zip(isochrone.nodes, isochrone.costs).contains { $0.0 == start && $0.1 == 0 },
            "the start node is not in its isochrone at 0"
        )
    }

    /// A matrix (one search per origin) and a batch of routes answer exactly what `route` does
    /// pair by pair, by distance and by time, unreachable pairs included; points on nodes too.
    @Test func matrixAndBatchRoutesEqualRouteForEachPair() throws {
        let network = try RoadNetwork(roads: Self.helsinki())
        let graph = network.graph
        var rng = SplitMix64(state: 7)
        func point() -> Coordinate {
            Coordinate(
                lon: 24.90 + Double(rng.next() % 100_000) / 100_000 * 0.08,
                lat: 60.15 + Double(rng.next() % 100_000) / 100_000 * 0.04
            )
        }
        let mixed = Self.mixedNodes(graph)
        let origins = (0..<12).map { _ in point() } + (0..<4).map { _ in graph.coordinates[mixed[Int(rng.next() % UInt64(mixed.count))]] }
        let destinations = (0..<14).map { _ in point() } + [origins[0], origins[13]]
        for weight in [RoadGraph.Weight.distance, .time] {
            let matrix = try network.matrix(from: origins, to: destinations, weight: weight)
            #expect(matrix.costs.count == origins.count && matrix.costs.allSatisfy { $0.count == destinations.count })
            var reachable = 0
            for (i, a) in origins.enumerated() {
                for (j, b) in destinations.enumerated() {
                    let one: Double?
                    let along: Double?
                    do {
                        let r = try network.route(through: [a, b], weight: weight)
                        (one, along) = weight == .distance ? (r.length, r.time) : (r.time, r.length)
                    } catch {
                        #expect(error.kind == .unreachable)
                        (one, along) = (nil, nil)
                    }
                    let cell = matrix.costs[i][j]
                    #expect((cell == nil) == (one == nil), "\(weight) \(i)→\(j): matrix \(cell ?? -1) vs route \(one ?? -1)")
                    if let cell, let one, let along {
                        reachable += 1
                        #expect(abs(cell - one) <= 1e-9 * max(1, one), "\(weight) \(i)→\(j): matrix \(cell) vs route \(one)")
                        // The other weight along the same route, as `route` reports it.
                        let other = matrix.other[i][j] ?? .nan
                        #expect(abs(other - along) <= 1e-9 * max(1, along), "\(weight) \(i)→\(j): other \(other) vs route \(along)")
                    }
                }
            }
            #expect(reachable > origins.count * destinations.count / 3 && reachable < origins.count * destinations.count)
            #expect(matrix.costs[0][14] == 0, "a point to itself costs nothing")
        }
        let pairs = zip(origins, destinations).map { ($0, $1) }
        let legs = try network.routes(pairs)
        for ((a, b), leg) in zip(pairs, legs) {
            let r = try? network.route(through: [a, b])
            #expect(leg.reachable == (r != nil) && leg.length == r?.length && leg.time == r?.time)
        }
        // Asked to stop, a batch stops.
        #expect(throws: ComputeError.self) { _ = try network.matrix(from: origins, to: destinations, isCancelled: { true }) }
    }

    /// Snapping through the grid index finds what measuring every segment finds: the same
    /// nearest distance and position, for points among the roads, on them, and far outside.
    @Test func snapFindsTheNearestPositionOfAnySegment() throws {
        let network = try RoadNetwork(roads: Self.helsinki())
        let graph = network.graph
        var rng = SplitMix64(state: 11)
        var points = (0..<150).map { _ in
            Coordinate(lon: 24.85 + Double(rng.next() % 100_000) / 100_000 * 0.2, lat: 60.12 + Double(rng.next() % 100_000) / 100_000 * 0.1)
        }
        points += (0..<20).map { _ in graph.coordinates[Int(rng.next() % UInt64(graph.nodeCount))] }
        points += [Coordinate(lon: 10, lat: 50), Coordinate(lon: 24.9, lat: 61.5), Coordinate(lon: -170, lat: -80)]
        for p in points {
            let snapped = try network.snap(p)
            var best = (d: Double.infinity, q: p)
            for e in 0..<graph.edgeCount {
                let (_, q) = RoadNetwork.project(p, graph.coordinates[graph.source(ofEdge: e)], graph.coordinates[graph.target(ofEdge: e)])
                let d = Haversine.distance(p, q)
                if d < best.d { best = (d, q) }
            }
            #expect(abs(snapped.distance - best.d) <= 1e-9 * max(1, best.d), "\(p): \(snapped.distance) vs \(best.d)")
            #expect(abs(Haversine.distance(snapped.point, best.q)) <= 1e-6 || abs(snapped.distance - best.d) <= 1e-9, "\(p)")
        }
    }

    /// Two points on one segment: along it when the road allows, else around the block.
    @Test func routesAlongOneSegment() throws {
        let oneWay = Road(
            id: "one",
            coordinates: [Coordinate(lon: 25.0, lat: 60.0), Coordinate(lon: 25.01, lat: 60.0)],
            tags: ["oneway": "yes"]
        )
        let back = Road(
            id: "loop",
            coordinates: [
                Coordinate(lon: 25.01, lat: 60.0), Coordinate(lon: 25.01, lat: 60.001), Coordinate(lon: 25.0, lat: 60.001),
                Coordinate(lon: 25.0, lat: 60.0),
            ],
            tags: ["oneway": "yes"]
        )
        let network = try RoadNetwork(roads: [oneWay, back])
        let p = Coordinate(lon: 25.002, lat: 60.0)
        let q = Coordinate(lon: 25.006, lat: 60.0)
        let segment = Haversine.distance(Coordinate(lon: 25.0, lat: 60.0), Coordinate(lon: 25.01, lat: 60.0))
        let forward = try network.route(through: [p, q])
        #expect(abs(forward.length - 0.4 * segment) < 1e-6 && forward.roads == ["one"])
        // Against the one-way street: on to its end, round the loop, and back onto it.
        let around = try network.route(through: [q, p])
        #expect(abs(around.length - (0.4 * segment + Haversine.length(back.coordinates) + 0.2 * segment)) < 1e-6, "\(around.length)")
        #expect(around.roads == ["one", "loop", "one"])
        let snapped = try network.snap(q)
        #expect(snapped.road == "one" && abs(snapped.fraction - 0.6) < 1e-9 && abs(snapped.offset - 0.6 * segment) < 1e-6)
    }

    @Test func theSameInputsGiveTheSameGraphAndAnswers() throws {
        let roads = try Self.helsinki()
        let a = try RoadGraph(roads: roads)
        let b = try RoadGraph(roads: roads)
        #expect(a.coordinates == b.coordinates && a.lengths == b.lengths)
        #expect(a.shortestPath(from: 10, to: 900)?.edges == b.shortestPath(from: 10, to: 900)?.edges)
    }

    @Test func badInputIsRefused() {
        #expect(throws: ComputeError.self) {
            _ = try RoadGraph(roads: [Road(id: "x", coordinates: [Coordinate(lon: 200, lat: 0), Coordinate(lon: 0, lat: 0)], tags: [:])])
        }
        #expect(abs(Haversine.distance(Coordinate(lon: 24.9, lat: 60), Coordinate(lon: 24.9, lat: 61)) - 111_195.08) < 0.01)
    }
}
