import Foundation
import Testing

/// Export (issue 21): a project's Feature files as one GeoJSON FeatureCollection or an RFC 8142
/// text sequence, over HTTP and from the CLI; ids are paths; a scoped key exports only its own.
@Suite struct FeatureExportTests {
    static let api = "/v1/orgs/default/projects/city"

    static func point(_ lon: Double, _ lat: Double, _ name: String) -> String {
        #"{"type":"Feature","geometry":{"type":"Point","coordinates":[\#(lon),\#(lat)]},"properties":{"name":"\#(name)"}}"#
    }

    static func ids(_ collection: [String: Any]) -> [String] {
        (collection["features"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    @Test(
        "export over HTTP and the CLI: a FeatureCollection of the glob's Feature files (ids are paths), bbox, a text sequence, a scoped key"
    )
    func export() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "city"]).status == 201)
        for (path, content) in [
            ("sites/a.json", Self.point(24.94, 60.17, "a")), ("sites/b.json", Self.point(25.5, 60.5, "b")),
            ("sites/notes.json", #"{"x":1}"#), ("zones/z.json", Self.point(24.95, 60.16, "z")),
        ] {
            #expect(server.cli.run("write", path, "-p", "city", "--content", content, "-m", "seed").status == 0)
        }
        let all = try await server.request("GET", "\(Self.api)/export?glob=sites/**", token: admin)
        #expect(all.status == 200 && all.headers["Content-Type"] == "application/geo+json", "\(all.status) \(all.text)")
        #expect(
            all.json["type"] as? String == "FeatureCollection" && Self.ids(all.json) == ["sites/a.json", "sites/b.json"],
            "\(all.text)"
        )
        #expect((all.headers["X-Cairn-Commit"] ?? all.headers["x-cairn-commit"])?.count == 64)
        let first = (all.json["features"] as? [[String: Any]])?.first
        #expect((first?["properties"] as? [String: Any])?["name"] as? String == "a")

        let boxed = try await server.request("GET", "\(Self.api)/export?glob=sites/**&bbox=24.9,60.1,25.0,60.2", token: admin)
        #expect(Self.ids(boxed.json) == ["sites/a.json"], "\(boxed.text)")

        let sequence = try await server.request("GET", "\(Self.api)/export?f=geojsonseq", token: admin)
        let records = sequence.body.split(separator: 0x1E).map { Data($0) }
        #expect(sequence.headers["Content-Type"] == "application/geo+json-seq" && records.count == 3, "\(sequence.text)")
        let parsed = records.compactMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
        #expect(parsed.compactMap { $0["id"] as? String } == ["sites/a.json", "sites/b.json", "zones/z.json"])

        // A key scoped to zones/** exports only what it may read.
        let minted = try await server.request(
            "POST",
            "/v1/orgs/default/keys",
            token: admin,
            json: ["subject": "user:gis", "role": "viewer", "project": "city", "path": "zones/**"]
        )
        #expect(try await server.request("PUT", "/v1/orgs/default/members/user:gis", token: admin, json: ["role": "viewer"]).status == 200)
        let scoped = try #require(minted.json["token"] as? String, "\(minted.text)")
        let mine = try await server.request("GET", "\(Self.api)/export", token: scoped)
        #expect(Self.ids(mine.json) == ["zones/z.json"], "\(mine.text)")

        // Refused before any byte: a parameter it does not take, a bad glob, an unknown ref.
        #expect(try await server.request("GET", "\(Self.api)/export?limit=3", token: admin).status == 400)
        #expect(try await server.request("GET", "\(Self.api)/export?glob=%5B", token: admin).status == 400)
        #expect(try await server.request("GET", "\(Self.api)/export?ref=nowhere", token: admin).status == 404)

        // The CLI writes the same collection.
        let file = server.cli.data.deletingLastPathComponent().appendingPathComponent("export-\(UUID().uuidString).geojson")
        let cli = server.cli.run("export", "-p", "city", "--glob", "sites/**", "-o", file.path)
        #expect(cli.status == 0, "\(cli.stderr)")
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any] ?? [:]
        #expect(Self.ids(written) == ["sites/a.json", "sites/b.json"])
    }
}
