import CairnCompute
import Foundation

extension Bench {
    /// Route queries, isochrones and graph builds on the Helsinki roads and on a generated grid of
    /// about 1M directed edges, beside networkx and scipy.sparse.csgraph on the same graphs.
    func routes() async throws {
        report.section(
            "Routes and isochrones: Helsinki roads and a generated 1M-edge grid",
            "Cairn: `RoadGraph` in process (CSR; A* with the larger of the straight-line and the landmark (ALT, 8 landmarks, 4 active "
                + "per query) bounds, stopping at the target; search state reused between queries). The landmark tables are built once "
                + "per graph and weight, on the first query, and timed on their own row. Peers, on the "
                + "same directed graph exported from it (same nodes, least weight of parallel edges): networkx `dijkstra_path_length` and "
                + "scipy `csgraph.dijkstra(indices=s)` (a full single-source search: scipy has no early exit), in Python 3 from PyPI "
                + "(.bench/venv). Random origin–destination node pairs (the same for all); isochrones: every node within 1,000 m "
                + "(`single_source_dijkstra_path_length(cutoff)`, `dijkstra(limit)`). The route lengths of all three are compared."
        )
        let roadsPath = ProcessInfo.processInfo.environment["CAIRN_BENCH_ROADS"] ?? "../shared/data/helsinki-roads.geojson"
        let helsinki = try Road.featureCollection(Data(contentsOf: URL(fileURLWithPath: roadsPath)))
        let side = quick ? 200 : 500
        var grid: [Road] = []
        for i in 0..<side {
            grid.append(
                Road(
                    id: "r\(i)",
                    coordinates: (0..<side).map { Coordinate(lon: 24.0 + Double($0) * 0.001, lat: 60.0 + Double(i) * 0.0005) },
                    tags: ["highway": "residential"]
                )
            )
            grid.append(
                Road(
                    id: "c\(i)",
                    coordinates: (0..<side).map { Coordinate(lon: 24.0 + Double(i) * 0.001, lat: 60.0 + Double($0) * 0.0005) },
                    tags: ["highway": "residential"]
                )
            )
        }
        let python = root.appendingPathComponent("../venv/bin/python3").standardized.path
        for (name, roads, queries, peerQueries) in [
            ("Helsinki (2,417 ways)", helsinki, 2000, 200), ("grid \(side)×\(side)", grid, 200, quick ? 20 : 10),
        ] {
            var graph: RoadGraph?
            let build = try await Measure.median(runs: 5) { _ in graph = try RoadGraph(roads: roads) }
            guard let graph else { continue }
            var rng = SystemRandomNumberGenerator()
            let pairs = (0..<queries).map { _ in
                (Int.random(in: 0..<graph.nodeCount, using: &rng), Int.random(in: 0..<graph.nodeCount, using: &rng))
            }
            let sources = (0..<10).map { _ in Int.random(in: 0..<graph.nodeCount, using: &rng) }
            let landmarks = await Measure.seconds { graph.prepareLandmarks() }
            var ours: [Double?] = []
            // Lengths only, as the peers compute them; the path itself is measured on its own below.
            let routeTime = await Measure.seconds { ours = pairs.map { graph.shortestCost(from: $0.0, to: $0.1) } }
            let withPath = await Measure.seconds { for (s, t) in pairs { _ = graph.shortestPath(from: s, to: t) } }
            var isoSizes: [Int] = []
            let isoTime = await Measure.seconds { isoSizes = sources.map { graph.reachable(from: $0, budget: 1000).count } }
            report.row("\(name): graph build (\(graph.nodeCount) nodes, \(graph.edgeCount) edges)", Measure.ms(build), "", "", "")
            report.row(
                "\(name): landmark tables (8 landmarks, both directions; once per graph and weight)",
                Measure.ms(landmarks),
                "",
                "",
                ""
            )
            report.row("\(name): route queries with the path (edges) reconstructed", Measure.rate(Double(queries) / withPath), "", "", "")

            guard FileManager.default.fileExists(atPath: python) else {
                report.row("\(name): route queries", Measure.rate(Double(queries) / routeTime), "networkx, scipy", "not installed", "")
                continue
            }
            log("routes: peers on \(name)")
            let out = try routePeers(python, graph, pairs: pairs, sources: sources, in: "routes-\(graph.nodeCount)", count: peerQueries)
            guard let r = try JSONSerialization.jsonObject(with: out) as? [String: Any], let nxRoutes = r["nx_routes"] as? Double,
                let spRoutes = r["sp_routes"] as? Double,
                let nxIso = r["nx_iso"] as? Double, let spIso = r["sp_iso"] as? Double
            else {
                report.row("\(name): route queries", Measure.rate(Double(queries) / routeTime), "peers", "failed", "")
                continue
            }
            let theirs = (r["nx_lengths"] as? [Any] ?? []).map { $0 as? Double }
            let agree = zip(ours, theirs).allSatisfy { a, b in a == nil ? b == nil : b.map { abs($0 - a!) <= 1e-6 * max(1, $0) } ?? false }
            let isoAgree = (r["iso_sizes"] as? [Int] ?? []) == isoSizes
            precondition(agree && isoAgree, "the peers disagree with Cairn on \(name)")
            let ourRate = Double(queries) / routeTime
            let nxRate = Double(peerQueries) / nxRoutes
            let spRate = Double(peerQueries) / spRoutes
            report.row(
                "\(name): route queries (answers equal networkx's)",
                Measure.rate(ourRate),
                "networkx dijkstra_path_length",
                Measure.rate(nxRate),
                String(format: "%.0f× faster", ourRate / nxRate)
            )
            report.row(
                "\(name): route queries",
                Measure.rate(ourRate),
                "scipy csgraph.dijkstra (single source)",
                Measure.rate(spRate),
                String(format: "%.1f× faster", ourRate / spRate)
            )
            report.row(
                "\(name): isochrone, 1,000 m (node sets equal networkx's)",
                Measure.ms(isoTime / 10),
                "networkx cutoff / scipy limit",
                "\(Measure.ms(nxIso / 10)) / \(Measure.ms(spIso / 10))",
                String(format: "%.0f× / %.1f× faster", nxIso / isoTime, spIso / isoTime)
            )
        }
    }

    /// Runs networkx and scipy (Support/route_peer.py) on `graph` exported as they read it: the
    /// first `count` of `pairs` as routes, isochrones of 1,000 m from `sources`. Their JSON answer.
    func routePeers(_ python: String, _ graph: RoadGraph, pairs: [(Int, Int)], sources: [Int], in folder: String, count: Int) throws -> Data
    {
        let dir = root.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var edges = "\(graph.nodeCount)\n"
        for e in 0..<graph.edgeCount { edges += "\(graph.source(ofEdge: e)) \(graph.target(ofEdge: e)) \(graph.lengths[e])\n" }
        try edges.write(to: dir.appendingPathComponent("edges"), atomically: true, encoding: .utf8)
        try pairs.map { "\($0.0) \($0.1)" }.joined(separator: "\n").write(
            to: dir.appendingPathComponent("pairs"),
            atomically: true,
            encoding: .utf8
        )
        try sources.map(String.init).joined(separator: "\n").write(
            to: dir.appendingPathComponent("sources"),
            atomically: true,
            encoding: .utf8
        )
        let peer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "Support/route_peer.py"
        ).path
        return try Shell.run(
            python,
            [
                peer, dir.appendingPathComponent("edges").path, dir.appendingPathComponent("pairs").path,
                dir.appendingPathComponent("sources").path, "1000", String(count),
            ]
        ).out
    }
}
