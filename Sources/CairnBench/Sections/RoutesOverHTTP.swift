import CairnCompute
import CairnCore
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension Bench {
    /// Run over HTTP on the Helsinki roads imported into a project: single routes with
    /// keep-alive, a batch of 1,000 pairs in one request, and 1,000 m isochrones, beside networkx
    /// and scipy answering the same node-to-node queries on the same graph in the same run.
    func routesOverHTTP() async throws {
        let singles = quick ? 100 : 500
        let batch = 1000
        report.section(
            "Routes over HTTP: Cairn's Run against networkx and scipy per query (issue 23)",
            "`cairn serve` (release build, rate limit off, SQLite) with the Helsinki roads imported as 2,417 files (`roads/{@id}.json`); "
                + "one client on loopback (URLSession, keep-alive; and wrk for the rows that say so), sequential `POST /run` requests after 20 warm-up requests (the first "
                + "builds the graph), medians. Queries are random node pairs of the graph, sent as the nodes' coordinates, so the peers "
                + "answer the same node-to-node question: networkx `dijkstra_path_length` and scipy `csgraph.dijkstra(indices=s)` (a "
                + "full single-source search: scipy has no early exit) on the same directed graph, per query, in Python 3 (.bench/venv). "
                + "Batch: one `routes` request of \(batch) pairs (median of 5) beside \(batch) networkx queries (its per-query time × "
                + "\(batch)). Isochrone: every node within 1,000 m. Every HTTP answer's length is checked against networkx's."
        )
        let roadsPath = ProcessInfo.processInfo.environment["CAIRN_BENCH_ROADS"] ?? "../shared/data/helsinki-roads.geojson"
        let roadList = try Road.featureCollection(Data(contentsOf: URL(fileURLWithPath: roadsPath)))
        let graph = try RoadGraph(roads: roadList)
        log("routes over HTTP: starting cairn serve and importing the roads")
        let server = try GovernedServer(folder: root.appendingPathComponent("routes-server"))
        defer { server.stop() }
        try server.setUp()
        _ = try Shell.run(
            server.cairn,
            ["import", roadsPath, "-p", "bench", "--template", "roads/{@id}.json", "-m", "roads"] + server.storeArgs
        )
        let http = URLSession(configuration: .ephemeral)
        /// One request; the answer's bytes (parsed after the clock stops: the client's parsing is not the server's time).
        func run(_ body: [String: Any]) async throws -> Data {
            var request = URLRequest(url: URL(string: server.base + "/v1/orgs/default/projects/bench/run")!)
            request.httpMethod = "POST"
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("Bearer \(server.token)", forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            let (data, response) = try await http.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard status == 200 || status == 422 else {
                throw CairnError(.storage, "run answered \(status): \(String(decoding: data, as: UTF8.self))")
            }
            return data
        }
        func parsed(_ data: Data) -> [String: Any] { ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any]) ?? [:] }
        func point(_ n: Int) -> [Double] { [graph.coordinates[n].lon, graph.coordinates[n].lat] }
        var rng = SystemRandomNumberGenerator()
        let pairs = (0..<(singles + 20)).map { _ in
            (Int.random(in: 0..<graph.nodeCount, using: &rng), Int.random(in: 0..<graph.nodeCount, using: &rng))
        }
        let batchPairs = (0..<batch).map { _ in
            (Int.random(in: 0..<graph.nodeCount, using: &rng), Int.random(in: 0..<graph.nodeCount, using: &rng))
        }
        let sources = (0..<10).map { _ in Int.random(in: 0..<graph.nodeCount, using: &rng) }

        var single: [Double] = []
        var lengths: [Double?] = []
        for (i, (s, t)) in pairs.enumerated() {
            var answer = Data()
            let seconds = try await Measure.seconds { answer = try await run(["function": "route", "points": [point(s), point(t)]]) }
            if i >= 20 {
                single.append(seconds)
                lengths.append((parsed(answer)["result"] as? [String: Any])?["length"] as? Double)
            }
        }
        // The same pairs again with wrk as the client: URLSession on Linux adds a large cost of
        // its own to each request, so this row is the closer measure of the server's time.
        let bodies = try pairs.dropFirst(20).map { s, t in
            String(
                decoding: try JSONSerialization.data(withJSONObject: ["function": "route", "points": [point(s), point(t)]]),
                as: UTF8.self
            )
        }
        let lean = try server.wrkPost("/v1/orgs/default/projects/bench/run", bodies: bodies, seconds: quick ? 3 : 8, tag: "routes")
        // A file the import wrote (`roads/{@id}.json`), named by a road's id.
        guard let firstRoad = roadList.first?.id else { throw CairnError(.storage, "the roads file holds no road") }
        let leanGet = try server.wrkGet(
            "/v1/orgs/default/projects/bench/files/roads/\(firstRoad).json?raw=true",
            connections: 1,
            seconds: quick ? 3 : 8
        )
        precondition(leanGet.errors == 0, "GET roads/\(firstRoad).json answered with errors")
        var batchTimes: [Double] = []
        var legs: [[String: Any]] = []
        for _ in 0..<5 {
            let body: [String: Any] = ["function": "routes", "pairs": batchPairs.map { [point($0.0), point($0.1)] }]
            var answer = Data()
            batchTimes.append(try await Measure.seconds { answer = try await run(body) })
            legs = (parsed(answer)["result"] as? [String: Any])?["legs"] as? [[String: Any]] ?? []
        }
        var iso: [Double] = []
        var isoSizes: [Int] = []
        for _ in 0..<3 {
            isoSizes = []
            for s in sources {
                var answer = Data()
                iso.append(
                    try await Measure.seconds { answer = try await run(["function": "isochrone", "points": [point(s)], "budget": 1000]) }
                )
                isoSizes.append(((parsed(answer)["result"] as? [String: Any])?["nodes"] as? [Any])?.count ?? -1)
            }
        }

        let python = root.appendingPathComponent("../venv/bin/python3").standardized.path
        guard FileManager.default.fileExists(atPath: python) else {
            report.row("route over HTTP, p50", Measure.ms(Measure.medianOf(single)), "networkx, scipy", "not installed", "")
            return
        }
        let asked = Array(pairs.dropFirst(20)) + batchPairs
        log("routes over HTTP: peers")
        let out = try routePeers(python, graph, pairs: asked, sources: sources, in: "routes-http", count: asked.count)
        guard let r = try JSONSerialization.jsonObject(with: out) as? [String: Any], let nxRoutes = r["nx_routes"] as? Double,
            let spRoutes = r["sp_routes"] as? Double, let nxIso = r["nx_iso"] as? Double, let spIso = r["sp_iso"] as? Double
        else {
            report.row("route over HTTP, p50", Measure.ms(Measure.medianOf(single)), "peers", "failed", "")
            return
        }
        // Every answer equals networkx's: the singles, then the batch's legs.
        let theirs = (r["nx_lengths"] as? [Any] ?? []).map { $0 as? Double }
        let ours = lengths + legs.map { $0["length"] as? Double }
        precondition(ours.count == theirs.count, "answers missing: \(ours.count) of \(theirs.count)")
        for (a, b) in zip(ours, theirs) {
            precondition(
                a == nil ? b == nil : b.map { abs($0 - a!) <= 1e-6 * max(1, $0) } ?? false,
                "HTTP \(a ?? -1) vs networkx \(b ?? -1)"
            )
        }
        precondition(isoSizes == (r["iso_sizes"] as? [Int] ?? []), "isochrone node sets differ from networkx's")
        let perQueryNX = nxRoutes / Double(asked.count)
        let perQuerySP = spRoutes / Double(asked.count)
        let p50 = Measure.medianOf(single)
        report.row(
            "route over HTTP, p50 (answers equal networkx's)",
            Measure.ms(p50),
            "networkx, per query",
            Measure.ms(perQueryNX),
            String(format: "%.1f× faster", perQueryNX / p50)
        )
        report.row(
            "route over HTTP, p50",
            Measure.ms(p50),
            "scipy single-source, per query",
            Measure.ms(perQuerySP),
            String(format: "%.2f×", perQuerySP / p50) + (p50 < perQuerySP ? " (faster)" : " (slower)")
        )
        report.row(
            "route over HTTP, p50, wrk as the client (the same pairs in turn; \(lean.errors) answers were 422, for the unreachable pairs)",
            Measure.ms(lean.p50),
            "scipy single-source, per query",
            Measure.ms(perQuerySP),
            String(format: "%.2f×", perQuerySP / lean.p50) + (lean.p50 < perQuerySP ? " (faster)" : " (slower)")
        )
        report.row(
            "`GET /files` of one road file, p50, wrk as the client (the fixed cost of a request)",
            Measure.ms(leanGet.p50),
            "scipy single-source, per query",
            Measure.ms(perQuerySP),
            String(format: "%.2f× (the request alone, beside scipy's whole query)", perQuerySP / leanGet.p50)
        )
        let b50 = Measure.medianOf(batchTimes)
        report.row(
            "batch of \(batch) routes, one HTTP request",
            Measure.ms(b50),
            "\(batch) networkx queries",
            Measure.ms(perQueryNX * Double(batch)),
            String(format: "%.0f× faster", perQueryNX * Double(batch) / b50)
        )
        let i50 = Measure.medianOf(iso)
        report.row(
            "isochrone 1,000 m over HTTP, p50 (node sets equal networkx's)",
            Measure.ms(i50),
            "networkx cutoff / scipy limit, per query",
            "\(Measure.ms(nxIso / Double(sources.count))) / \(Measure.ms(spIso / Double(sources.count)))",
            String(format: "%.1f× / %.2f×", nxIso / Double(sources.count) / i50, spIso / Double(sources.count) / i50)
        )
    }
}
