import CairnCore
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension Bench {
    /// OGC API – Features pages of 1,000 Helsinki features from `cairn serve`, beside pygeoapi (the
    /// OGC reference implementation) serving the same features from its SQLite/GeoPackage and
    /// GeoJSON providers; and a full export of 100,000 features beside ogr2ogr reading the same
    /// features from a GeoJSON file. Same machine, same run.
    func featureService() async throws {
        let rounds = quick ? 2 : 5
        let bigCount = quick ? 20_000 : 100_000
        report.section(
            "OGC API – Features and export: Cairn beside pygeoapi and ogr2ogr (issue 21)",
            "`cairn serve` (release build, SQLite, rate limit off) with the 13,698 Helsinki features imported as files; pygeoapi "
                + "(PyPI, in .bench/pygeoapi) under gunicorn with 2 workers (the machine's cores) serving the same features, exported by "
                + "Cairn, from its GeoJSON provider (the FeatureCollection file; its SQLiteGPKG provider cannot serve OSM's column "
                + "names, which hold colons). One client on loopback, sequential requests: every page of 1,000 (`limit=1000`, 14 pages: "
                + "Cairn by its `next` links, pygeoapi by `offset`), \(rounds) rounds after one warm-up round; medians of the whole "
                + "request as the client sees it. Export: `GET /export` of \(bigCount) features (the Helsinki features repeated under "
                + "other paths), streamed to /dev/null by curl, the server's peak RSS read from /proc (VmHWM, reset before); beside "
                + "`ogr2ogr -f GeoJSONSeq` reading the same features from a GeoJSON file (time and peak RSS by /usr/bin/time)."
        )
        let data = ProcessInfo.processInfo.environment["CAIRN_BENCH_DATA"] ?? "../shared/data/helsinki.geojsonseq"
        let server = try GovernedServer(folder: root.appendingPathComponent("features-server"))
        defer { server.stop() }
        try server.setUp(seed: false)
        try server.curl("POST", "/v1/orgs/default/projects", #"{"name":"bench"}"#)
        log("features: importing the Helsinki features")
        _ = try Shell.run(
            server.cairn,
            ["import", data, "-p", "bench", "--template", "osm/{@type}/{@id}-{geometry.type}.json", "-m", "osm"] + server.storeArgs
        )
        let work = root.appendingPathComponent("features")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let geojson = work.appendingPathComponent("osm.geojson").path
        try server.curl("GET", "/v1/orgs/default/projects/bench/export?glob=osm/**", "").write(to: URL(fileURLWithPath: geojson))

        let http = URLSession(configuration: .ephemeral)
        func get(_ url: String, token: String? = nil) async throws -> [String: Any] {
            var request = URLRequest(url: URL(string: url)!)
            if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            let (body, response) = try await http.data(for: request)
            guard (response as? HTTPURLResponse)?.statusCode == 200 else {
                throw CairnError(.storage, "\(url) answered \((response as? HTTPURLResponse)?.statusCode ?? 0)")
            }
            return (try JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
        }
        /// Every URL once as warm-up, then `rounds` times each; the per-request median.
        func timePages(_ urls: [String], token: String?) async throws -> (median: Double, features: Int) {
            var features = 0
            for url in urls { features += (try await get(url, token: token)["features"] as? [Any])?.count ?? 0 }
            var times: [Double] = []
            for _ in 0..<rounds {
                for url in urls { times.append(try await Measure.seconds { _ = try await get(url, token: token) }) }
            }
            return (Measure.medianOf(times), features)
        }

        // Cairn: the pages by their next links (each pinned to the commit of the first).
        var cairnPages: [String] = []
        var next: String? = server.base + "/v1/orgs/default/projects/bench/ogc/collections/osm/items?limit=1000"
        while let url = next {
            cairnPages.append(url)
            let page = try await get(url, token: server.token)
            next = (page["links"] as? [[String: Any]] ?? []).first { $0["rel"] as? String == "next" }?["href"] as? String
        }
        log("features: timing Cairn's \(cairnPages.count) pages")
        let cairn = try await timePages(cairnPages, token: server.token)

        // pygeoapi with its GeoJSON provider. (Its SQLiteGPKG provider cannot serve these features:
        // it puts column names in SQL unquoted, and OSM's have colons, such as `addr:street`.)
        var peers: [(String, Double?, String)] = []
        let name = "pygeoapi, GeoJSON provider"
        do {
            log("features: timing \(name)")
            let peer = try PygeoapiServer(folder: work.appendingPathComponent("pygeoapi"))
            defer { peer.stop() }
            try peer.start(provider: "name: GeoJSON\n        data: \(geojson)\n        id_field: id")
            let urls = (0..<cairnPages.count).map { peer.base + "/collections/osm/items?f=json&limit=1000&offset=\($0 * 1000)" }
            let timed = try await timePages(urls, token: nil)
            if timed.features == cairn.features {
                peers.append((name, timed.median, ""))
            } else {
                peers.append((name, nil, "served \(timed.features) features, not \(cairn.features)"))
            }
        } catch {
            peers.append((name, nil, "did not run here: \(error)"))
        }
        for (name, median, note) in peers {
            report.row(
                "page of 1,000 features, p50 request (\(cairn.features) features, \(cairnPages.count) pages)",
                Measure.ms(cairn.median),
                name,
                median.map(Measure.ms) ?? note,
                median.map { "Cairn \(Measure.ratio($0 / cairn.median)) the throughput" } ?? "—"
            )
        }

        // Export of many features: the Helsinki features again and again under other paths.
        log("features: importing \(bigCount) features for the export")
        let lines = try String(contentsOfFile: data, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true)
        var big = ""
        big.reserveCapacity(lines.count * 400 * (bigCount / lines.count + 1))
        for i in 0..<bigCount {
            let line = lines[i % lines.count]
            guard let brace = line.firstIndex(of: "{") else { continue }
            big += "{\"copy\":\(i / lines.count),\"n\":\(i)," + line[line.index(after: brace)...] + "\n"
        }
        let bigFile = work.appendingPathComponent("big.geojsonseq")
        try big.write(to: bigFile, atomically: false, encoding: .utf8)
        big = ""
        try server.curl("POST", "/v1/orgs/default/projects", #"{"name":"big"}"#)
        _ = try Shell.run(
            server.cairn,
            ["import", bigFile.path, "-p", "big", "--template", "big/{#}.json", "-m", "big"] + server.storeArgs
        )
        let pid = server.process.processIdentifier
        func status(_ field: String) -> Double { Measure.memory(pid, field) }
        let exportFile = work.appendingPathComponent("big.geojson").path
        var exportTimes: [Double] = []
        var peaks: [Double] = []
        var baseline = 0.0
        for i in 0..<(quick ? 1 : 3) {
            try? "5".write(toFile: "/proc/\(pid)/clear_refs", atomically: false, encoding: .utf8)
            baseline = status("VmRSS")
            let target = i == 0 ? exportFile : "/dev/null"
            exportTimes.append(
                try await Measure.seconds {
                    let r = try Shell.run(
                        "curl",
                        [
                            "-sf", "-o", target, "-H", "Authorization: Bearer \(server.token)",
                            server.base + "/v1/orgs/default/projects/big/export",
                        ]
                    )
                    guard r.status == 0 else { throw CairnError(.storage, "export failed") }
                }
            )
            peaks.append(status("VmHWM"))
        }
        let exported = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: exportFile))) as? [String: Any])?[
            "features"
        ]
        let exportedCount = (exported as? [Any])?.count ?? 0
        var ogrTimes: [Double] = []
        var ogrPeak = 0.0
        for _ in 0..<(quick ? 1 : 3) {
            let out = work.appendingPathComponent("ogr.geojsonl").path
            try? FileManager.default.removeItem(atPath: out)
            var stderr = ""
            ogrTimes.append(
                try await Measure.seconds {
                    let r = try Shell.capture("/usr/bin/time", ["-f", "%M", "ogr2ogr", "-f", "GeoJSONSeq", out, exportFile])
                    stderr = String(decoding: r.err, as: UTF8.self)
                }
            )
            ogrPeak = max(ogrPeak, (Double(stderr.split(separator: "\n").last.map(String.init) ?? "") ?? 0) * 1024)
        }
        let exportMedian = Measure.medianOf(exportTimes)
        let ogrMedian = Measure.medianOf(ogrTimes)
        report.row(
            "export of \(exportedCount) features: median time",
            String(format: "%.2f s (%@)", exportMedian, Measure.rate(Double(exportedCount) / exportMedian)),
            "ogr2ogr, GeoJSON file to GeoJSONSeq",
            String(format: "%.2f s (%@)", ogrMedian, Measure.rate(Double(exportedCount) / ogrMedian)),
            Measure.ratio(ogrMedian / exportMedian)
        )
        report.row(
            "export of \(exportedCount) features: peak memory (the whole server; \(Measure.bytes(baseline)) at rest)",
            Measure.bytes(Measure.medianOf(peaks)),
            "ogr2ogr, GeoJSON file to GeoJSONSeq",
            Measure.bytes(ogrPeak),
            Measure.ratio(ogrPeak / max(1, Measure.medianOf(peaks)))
        )
    }
}

/// pygeoapi under gunicorn, serving one collection `osm` from the provider given.
final class PygeoapiServer: @unchecked Sendable {
    let folder: URL
    let process = Process()
    private(set) var base = ""

    init(folder: URL) throws {
        self.folder = folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func start(provider: String) throws {
        // pygeoapi's own virtualenv (scripts/bench.sh makes it).
        let venv = URL(fileURLWithPath: ".bench/pygeoapi/bin").path
        let port = 20_000 + Int.random(in: 0..<20_000)
        base = "http://127.0.0.1:\(port)"
        let config = folder.appendingPathComponent("config.yml")
        try """
        server:
          bind: {host: 127.0.0.1, port: \(port)}
          url: \(base)
          mimetype: application/json; charset=UTF-8
          encoding: utf-8
          language: en-US
          limits: {default_items: 10, max_items: 10000}
          map: {url: "http://127.0.0.1/{z}/{x}/{y}.png", attribution: none}
        logging:
          level: ERROR
        metadata:
          identification: {title: bench, description: bench, keywords: [bench], keywords_type: theme, terms_of_service: none, url: "http://127.0.0.1"}
          license: {name: none, url: "http://127.0.0.1"}
          provider: {name: bench, url: "http://127.0.0.1"}
          contact: {name: bench}
        resources:
          osm:
            type: collection
            title: osm
            description: the Helsinki features
            keywords: [osm]
            extents:
              spatial: {bbox: [24.9, 60.1, 25.0, 60.2], crs: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
            providers:
              - type: feature
                \(provider)
        """.write(to: config, atomically: true, encoding: .utf8)
        let openapi = folder.appendingPathComponent("openapi.yml")
        var env = ProcessInfo.processInfo.environment
        env["PYGEOAPI_CONFIG"] = config.path
        env["PYGEOAPI_OPENAPI"] = openapi.path
        let generated = try Shell.capture(
            venv + "/pygeoapi",
            ["openapi", "generate", config.path, "--output-file", openapi.path],
            environment: env
        )
        guard generated.status == 0 else {
            throw CairnError(.storage, "pygeoapi openapi generate: \(String(decoding: generated.err, as: UTF8.self).suffix(400))")
        }
        process.executableURL = URL(fileURLWithPath: venv + "/gunicorn")
        process.arguments = [
            "-w", "2", "-b", "127.0.0.1:\(port)", "--graceful-timeout", "2", "--log-level", "error", "pygeoapi.flask_app:APP",
        ]
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if (try? Shell.run("curl", ["-sf", "-o", "/dev/null", base + "/collections?f=json"]).status) == 0 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw CairnError(.storage, "pygeoapi did not start")
    }

    /// SIGTERM, then SIGKILL after five seconds: gunicorn's graceful stop must not hold the run.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<50 where process.isRunning { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
