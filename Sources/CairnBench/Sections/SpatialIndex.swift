import CairnCore
import CairnPostgres
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension Bench {
    /// Bounding-box queries and the low-zoom aggregate over a million point features, answered by
    /// `cairn serve` from its spatial index, beside PostGIS (a GiST index) answering the same
    /// queries over the same points on this machine's PostgreSQL, in the same run.
    func spatialIndex() async throws {
        guard let cluster = ProcessInfo.processInfo.environment["CAIRN_TEST_POSTGRES_URL"],
            let parts = URLComponents(string: cluster), let host = parts.host
        else {
            report.note("Spatial index: skipped, no PostgreSQL cluster (scripts/bench.sh starts one and sets CAIRN_TEST_POSTGRES_URL).")
            return
        }
        let count = quick ? 100_000 : 1_000_000
        let rounds = quick ? 31 : 101
        report.section(
            "Bounding-box queries over \(count) features: Cairn's spatial index beside PostGIS (issue 22)",
            "\(count) point features (generated: uniform over longitude 24.5–25.5, latitude 60–60.5, two properties each) imported "
                + "as files into `cairn serve` (release build, SQLite, rate limit off), and the same points loaded into PostGIS "
                + "\(Self.postgisVersion(host, parts)) on this machine's PostgreSQL (a `geometry(Point, 4326)` column with a GiST index, "
                + "the path as primary key, the properties as jsonb; ANALYZEd). The same random boxes for both, one client, sequential "
                + "requests, medians of \(rounds): a map view (0.02° × 0.01°, about 1.1 × 1.1 km, some \(count / 1250) features) and a "
                + "district (0.2° × 0.1°, some \(count / 25) features) asking for the first page of 1,000 in path order (`items?bbox=…&limit=1000`, "
                + "GeoJSON); the aggregate of the whole extent in a 64 × 64 grid (`cells`, every feature counted). Cairn's time is the "
                + "whole HTTP request on loopback as the client sees it (so an upper bound of the server's time); PostGIS's is psql's "
                + "`\\timing` over a Unix socket of one session, for a query building the same GeoJSON (`json_agg`, `ST_AsGeoJSON`)."
        )
        let server = try GovernedServer(folder: root.appendingPathComponent("bbox-server"))
        defer { server.stop() }
        try server.setUp(seed: false)
        try server.curl("POST", "/v1/orgs/default/projects", #"{"name":"bench"}"#)
        let work = root.appendingPathComponent("bbox")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)

        // The same points for both: GeoJSON text sequence for Cairn, tab-separated rows for COPY.
        log("bbox: generating \(count) features")
        var rng = LCG(seed: 22)
        var seq = ""
        var rows = ""
        let kinds = ["cabinet", "pole", "manhole", "splice"]
        for i in 0..<count {
            let lon = (24.5 + rng.unit() * 1.0) * 1e6
            let lat = (60.0 + rng.unit() * 0.5) * 1e6
            let (x, y) = (String(format: "%.6f", lon.rounded() / 1e6), String(format: "%.6f", lat.rounded() / 1e6))
            let path = String(format: "pts/%07d.json", i)
            let properties = #"{"n":\#(i),"kind":"\#(kinds[i % 4])"}"#
            seq +=
                #"{"type":"Feature","id":"\#(path)","geometry":{"type":"Point","coordinates":[\#(x),\#(y)]},"properties":\#(properties)}"#
            seq += "\n"
            rows += "\(path)\tSRID=4326;POINT(\(x) \(y))\t\(properties)\n"
        }
        let seqFile = work.appendingPathComponent("points.geojsonseq")
        let rowsFile = work.appendingPathComponent("points.tsv")
        try seq.write(to: seqFile, atomically: false, encoding: .utf8)
        try rows.write(to: rowsFile, atomically: false, encoding: .utf8)
        (seq, rows) = ("", "")

        log("bbox: importing into Cairn")
        let importTime = try await Measure.seconds {
            _ = try Shell.run(server.cairn, ["import", seqFile.path, "-p", "bench", "--paths-from-ids", "-m", "points"] + server.storeArgs)
        }
        let http = URLSession(configuration: .ephemeral)
        func get(_ path: String) async throws -> [String: Any] {
            var request = URLRequest(url: URL(string: server.base + "/v1/orgs/default/projects/bench/ogc/collections/pts" + path)!)
            request.setValue("Bearer \(server.token)", forHTTPHeaderField: "Authorization")
            request.timeoutInterval = 600
            let (body, response) = try await http.data(for: request)
            guard (response as? HTTPURLResponse)?.statusCode == 200 else {
                throw CairnError(.storage, "\(path) answered \((response as? HTTPURLResponse)?.statusCode ?? 0)")
            }
            return (try JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
        }
        func box(_ w: Double, _ h: Double) -> [Double] {
            let x = 24.5 + rng.unit() * (1 - w)
            let y = 60 + rng.unit() * (0.5 - h)
            return [x, y, x + w, y + h]
        }
        let views = (0..<rounds).map { _ in box(0.02, 0.01) }
        let districts = (0..<rounds).map { _ in box(0.2, 0.1) }
        let text = { (b: [Double]) in b.map { String(format: "%.6f", $0) }.joined(separator: ",") }

        let pid = server.process.processIdentifier
        let before = Measure.memory(pid, "VmRSS")
        log("bbox: the first query (the index built from the files)")
        let cold = try await Measure.seconds { _ = try await get("/items?limit=1000&bbox=" + text(views[0])) }
        let after = Measure.memory(pid, "VmRSS")
        func time(_ paths: [String]) async throws -> (median: Double, returned: [Int]) {
            var times: [Double] = []
            var returned: [Int] = []
            for path in paths {
                var page: [String: Any] = [:]
                times.append(try await Measure.seconds { page = try await get(path) })
                returned.append((page["features"] as? [Any])?.count ?? (page["numberMatched"] as? Int ?? -1))
            }
            return (Measure.medianOf(times), returned)
        }
        log("bbox: timing Cairn")
        let cairnViews = try await time(views.map { "/items?limit=1000&bbox=" + text($0) })
        let cairnDistricts = try await time(districts.map { "/items?limit=1000&bbox=" + text($0) })
        let cairnCells = try await time((0..<rounds).map { _ in "/cells?columns=64&rows=64" })
        // A one-feature commit, then a view: the index carried to the new commit by the diff.
        var afterCommit: [Double] = []
        for i in 0..<min(rounds, 31) {
            // The file's content is a JSON string inside the request's JSON: its quotes escaped.
            let feature =
                #"{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[25.0,60.25]},"#
                + #"\"properties\":{\"n\":\#(i)}}"#
            try server.curl("PUT", "/v1/orgs/default/projects/bench/files/pts/moved.json", #"{"content":"\#(feature)"}"#)
            afterCommit.append(try await Measure.seconds { _ = try await get("/items?limit=1000&bbox=" + text(views[i])) })
        }

        log("bbox: loading PostGIS")
        let port = String(parts.port ?? 5432)
        let user = parts.user ?? "cairn"
        let db = String(parts.path.dropFirst())
        setenv("PGPASSWORD", try PostgresLocation.password() ?? "", 1)
        let psql = ["-q", "-X", "-h", host, "-p", port, "-U", user, db, "-v", "ON_ERROR_STOP=1"]
        let table = "bench_points_\(ProcessInfo.processInfo.processIdentifier)"
        let load = try Shell.capture(
            "psql",
            psql + [
                "-c", "CREATE EXTENSION IF NOT EXISTS postgis",
                "-c", "CREATE TABLE \(table) (path text PRIMARY KEY, geom geometry(Point, 4326), properties jsonb)",
                "-c", "\\copy \(table) FROM '\(rowsFile.path)'",
                "-c", "CREATE INDEX ON \(table) USING gist (geom)",
                "-c", "ANALYZE \(table)",
            ]
        )
        guard load.status == 0 else {
            report.note("Spatial index: PostGIS could not be loaded here: \(String(decoding: load.err, as: UTF8.self))")
            return
        }
        defer { _ = try? Shell.run("psql", psql + ["-c", "DROP TABLE \(table)"]) }
        func page(_ b: [Double]) -> String {
            "SELECT json_build_object('type','FeatureCollection','features',coalesce(json_agg(f),'[]')) FROM (SELECT "
                + "json_build_object('type','Feature','id',path,'geometry',ST_AsGeoJSON(geom)::json,'properties',properties) AS f "
                + "FROM \(table) WHERE geom && ST_MakeEnvelope(\(text(b)), 4326) ORDER BY path LIMIT 1000) q;"
        }
        let cellsQuery =
            "SELECT json_agg(c) FROM (SELECT least(63, floor((ST_X(geom) - e.w) / (e.e - e.w) * 64)) AS col, "
            + "least(63, floor((ST_Y(geom) - e.s) / (e.n - e.s) * 64)) AS row, count(*), avg(ST_X(geom)), avg(ST_Y(geom)) "
            + "FROM \(table), (SELECT ST_XMin(x) w, ST_YMin(x) s, ST_XMax(x) e, ST_YMax(x) n FROM (SELECT ST_Extent(geom) x "
            + "FROM \(table)) t) e GROUP BY 1, 2) c;"
        /// psql's own timing of each query of one session (the answers go to /dev/null).
        func postgis(_ queries: [String]) throws -> Double? {
            let script = work.appendingPathComponent("queries.sql")
            try ("\\timing on\n\\o /dev/null\n" + queries.joined(separator: "\n") + "\n").write(
                to: script,
                atomically: false,
                encoding: .utf8
            )
            let r = try Shell.capture("psql", psql + ["-f", script.path])
            let times = String(decoding: r.out, as: UTF8.self).split(separator: "\n").compactMap { line -> Double? in
                guard line.hasPrefix("Time: ") else { return nil }
                return Double(line.dropFirst(6).split(separator: " ").first ?? "").map { $0 / 1000 }
            }
            return times.count == queries.count ? Measure.medianOf(times) : nil
        }
        log("bbox: timing PostGIS")
        // One round untimed first, as Cairn's first query was, so both read warm caches.
        _ = try postgis(views.map(page))
        let counted = try Shell.capture(
            "psql",
            psql + ["-t", "-A", "-c", "SELECT count(*) FROM \(table) WHERE geom && ST_MakeEnvelope(\(text(views[1])), 4326)"]
        )
        let same =
            Int(String(decoding: counted.out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) == cairnViews.returned[1]
        let peerViews = try postgis(views.map(page))
        let peerDistricts = try postgis(districts.map(page))
        let peerCells = try postgis(Array(repeating: cellsQuery, count: min(rounds, 31)))

        func row(_ what: String, _ ours: Double, _ theirs: Double?) {
            report.row(
                what,
                Measure.ms(ours),
                "PostGIS, GiST index",
                theirs.map(Measure.ms) ?? "did not run here",
                theirs.map { "\(Measure.ratio(ours / $0)) PostGIS's time" } ?? "—"
            )
        }
        let viewFeatures = Measure.medianOf(cairnViews.returned.map(Double.init))
        row("map view (≈\(Int(viewFeatures)) features), p50", cairnViews.median, peerViews)
        row("district, first page of 1,000, p50", cairnDistricts.median, peerDistricts)
        row("aggregate of all \(count) features in 64 × 64 cells, p50", cairnCells.median, peerCells)
        report.row(
            "map view right after a one-feature commit (index carried by the diff), p50",
            Measure.ms(Measure.medianOf(afterCommit)),
            "the same view at an unchanged commit",
            Measure.ms(cairnViews.median),
            Measure.ratio(Measure.medianOf(afterCommit) / cairnViews.median)
        )
        report.note(
            "Spatial index: import of \(count) features \(String(format: "%.1f", importTime)) s; the first query at a commit builds the "
                + "collection's summary and index from the files: \(String(format: "%.1f", cold)) s, the server's resident memory growing "
                + "\(Measure.bytes(after - before)). The same features found by both for a view checked: \(same ? "yes" : "NO")."
        )
    }

    /// The PostGIS version the cluster offers.
    static func postgisVersion(_ host: String, _ parts: URLComponents) -> String {
        setenv("PGPASSWORD", (try? PostgresLocation.password()) ?? "", 1)
        let r = try? Shell.run(
            "psql",
            [
                "-X", "-t", "-A", "-h", host, "-p", String(parts.port ?? 5432), "-U", parts.user ?? "cairn", String(parts.path.dropFirst()),
                "-c",
                "SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'",
            ]
        )
        return r.map { String(decoding: $0.out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "?"
    }
}

/// A small deterministic generator, so every run (and both systems) see the same points.
struct LCG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func unit() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(1 << 53)
    }
}
