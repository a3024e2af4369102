import CairnCore
import Foundation

extension Bench {
    /// The web console in headless Chromium: first render of the Helsinki map and table beside a
    /// plain Leaflet page drawing the same features from a static GeoJSON file (the floor), and
    /// a commit's way to the open page. Same machine, same run.
    func consoleRender() async throws {
        report.section(
            "The web console in headless Chromium: first render and feed to screen (issue 22)",
            "`cairn serve` (release build, SQLite) with the 13,698 Helsinki features imported as files; Debian's chromium, headless, "
                + "driven by selenium (.bench/venv), signed in once. First render: from navigation to the project's page until every "
                + "feature is drawn on the map (canvas) and the table is filled, 5 loads after a warm-up; the floor is a plain page "
                + "with Debian's Leaflet drawing the same features (Cairn's export of them) from a static GeoJSON file served by "
                + "Python's http.server. Feed to screen: with the page open, 20 writes over HTTP, each timed from the request until the "
                + "new feature is on the map. Medians."
        )
        let data = ProcessInfo.processInfo.environment["CAIRN_BENCH_DATA"] ?? "../shared/data/helsinki.geojsonseq"
        let server = try GovernedServer(folder: root.appendingPathComponent("console-server"))
        defer { server.stop() }
        try server.setUp(seed: false)
        try server.curl("POST", "/v1/orgs/default/projects", #"{"name":"bench"}"#)
        log("console: importing the Helsinki features")
        _ = try Shell.run(
            server.cairn,
            ["import", data, "-p", "bench", "--template", "osm/{@type}/{@id}-{geometry.type}.json", "-m", "osm"] + server.storeArgs
        )
        // The floor: the same features, a static file, a page with Leaflet and nothing else.
        let site = root.appendingPathComponent("plain-leaflet")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        try server.curl("GET", "/v1/orgs/default/projects/bench/export?glob=osm/**", "").write(
            to: site.appendingPathComponent("osm.geojson")
        )
        for name in ["leaflet.js", "leaflet.css"] {
            try? FileManager.default.copyItem(
                atPath: "/usr/share/javascript/leaflet/" + name,
                toPath: site.appendingPathComponent(name).path
            )
        }
        try """
        <!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="leaflet.css">
        <style>#map { height: 70vh; }</style></head><body><div id="map"></div><script src="leaflet.js"></script><script>
        const map = L.map('map', { preferCanvas: true });
        fetch('osm.geojson').then((r) => r.json()).then((data) => {
          const layer = L.geoJSON(data, { pointToLayer: (f, at) => L.circleMarker(at, { radius: 3 }) }).addTo(map);
          map.fitBounds(layer.getBounds());
          document.getElementById('map').dataset.drawn = String(data.features.length);
        });
        </script></body></html>
        """.write(to: site.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        let port = 21_000 + Int.random(in: 0..<20_000)
        let plain = Process()
        plain.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        plain.arguments = ["python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", site.path]
        plain.standardOutput = FileHandle.nullDevice
        plain.standardError = FileHandle.nullDevice
        try plain.run()
        defer { plain.terminate() }
        try await Task.sleep(for: .seconds(1))

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "Support/console_render.py"
        ).path
        let query: [String: Any] = [
            "console": server.base + "/console/#/p/bench", "signin": ["url": server.base, "org": "default", "key": server.token],
            "plain": "http://127.0.0.1:\(port)/index.html", "expected": 13_698,
            "write": ["url": server.base + "/v1/orgs/default/projects/bench/files", "key": server.token],
        ]
        log("console: timing in headless Chromium")
        let r = try Shell.run(".bench/venv/bin/python3", [script], stdin: try JSONSerialization.data(withJSONObject: query))
        guard r.status == 0, let answer = try JSONSerialization.jsonObject(with: r.out) as? [String: [Double]] else {
            report.note("The browser run failed here (is chromium installed? selenium in .bench/venv?); no figures.")
            return
        }
        let console = Measure.medianOf(answer["console"] ?? [])
        let floor = Measure.medianOf(answer["plain"] ?? [])
        let feed = Measure.medianOf(answer["feed"] ?? [])
        report.row(
            "first render of the map and table, 13,698 features (target < 2 s)",
            Measure.ms(console),
            "plain Leaflet page, static GeoJSON",
            Measure.ms(floor),
            Measure.ratio(console / floor) + " the floor"
        )
        report.row("commit to the open page, p50 of 20 (target < 1 s)", Measure.ms(feed), "—", "—", "—")
    }
}
