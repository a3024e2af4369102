import Foundation
import Testing

/// The ontology through the HTTP API: every property type, link rule and constraint kind, valid
/// and violating, with the exact violations each refused write reports.
@Suite struct OntologySurfaceTests {
    static var ontology: Any {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/ontology/fiber-test.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url))
    }

    /// A session on one project, with helpers for files and violations.
    struct Session {
        let server: ServerHarness
        let token: String
        let p: String

        static func start(project: String = "net") async throws -> Session {
            let server = try await ServerHarness()
            let token = try server.adminToken()
            #expect(try await server.request("POST", "/v1/orgs/default/projects", token: token, json: ["name": project]).status == 201)
            let s = Session(server: server, token: token, p: "/v1/orgs/default/projects/\(project)")
            // Direct merges and reverts on main, so those paths can be shown refusing a violation.
            #expect(try await s.put(".cairn/protection.json", ["branches": [String: Any]()]).status == 200)
            return s
        }

        func put(_ path: String, _ object: Any, branch: String = "main") async throws -> ServerHarness.Reply {
            let text = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
            return try await server.request("PUT", p + "/files/" + path, token: token, json: ["content": text, "branch": branch])
        }

        func commit(_ files: [String: Any], branch: String = "main") async throws -> ServerHarness.Reply {
            let changes = try files.sorted { $0.key < $1.key }.map { path, object in
                [
                    "op": "write", "path": path,
                    "content": String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self),
                ]
            }
            return try await server.request("POST", p + "/commits", token: token, json: ["changes": changes, "branch": branch])
        }

        func head(_ branch: String = "main") async throws -> String? {
            let list = try await server.request("GET", p + "/branches", token: token).json["branches"] as? [[String: Any]] ?? []
            return list.first { $0["name"] as? String == branch }?["head"] as? String
        }

        func raw(_ path: String, ref: String = "main") async throws -> [String: Any] {
            let r = try await server.request("GET", p + "/files/\(path)?raw=true&ref=\(ref)", token: token)
            return (try? JSONSerialization.jsonObject(with: r.body)) as? [String: Any] ?? [:]
        }
    }

    /// The (constraint, path, pointer) of each violation in an answer, in the answer's order.
    static func violations(_ reply: ServerHarness.Reply) -> [String] {
        let list =
            ((reply.json["error"] as? [String: Any])?["violations"] as? [[String: Any]]) ?? (reply.json["violations"] as? [[String: Any]])
            ?? []
        return list.map { "\($0["constraint"] as? String ?? "?") \($0["path"] as? String ?? "?") \($0["pointer"] as? String ?? "?")" }
    }

    static func point(_ lon: Double, _ lat: Double) -> [String: Any] { ["type": "Point", "coordinates": [lon, lat]] }
    static func feature(_ geometry: [String: Any]?, _ properties: [String: Any], links: [String: Any]? = nil) -> [String: Any] {
        var f: [String: Any] = ["type": "Feature", "geometry": geometry ?? NSNull(), "properties": properties]
        if let links { f["links"] = links }
        return f
    }

    /// A valid little network: a road and a zone, an OLT feeding a cabinet feeding a splitter
    /// feeding two drops, a note, and three pipes in a chain.
    static var network: [String: Any] {
        [
            "roads/r1.json": feature(["type": "LineString", "coordinates": [[24.94, 60.17], [24.95, 60.17]]], [:]),
            "zones/z1.json": feature(
                ["type": "Polygon", "coordinates": [[[24.9, 60.1], [25.0, 60.1], [25.0, 60.2], [24.9, 60.2], [24.9, 60.1]]]],
                [:]
            ),
            "olt/1.json": feature(point(24.945, 60.1705), ["name": "OLT-1"], links: ["feeds": ["cab/1.json"]]),
            "cab/1.json": feature(
                point(24.945, 60.171),
                [
                    "name": "C-1", "ports": 24, "load": 0.5, "active": true, "installed": "2026-01-01T00:00:00Z", "olt": "olt/1.json",
                    "tags": ["a", "b"],
                ],
                links: ["uplink": ["olt/1.json"], "feeds": ["spl/1.json"]]
            ),
            "spl/1.json": feature(point(24.946, 60.171), ["ratio": 8, "demand": 3], links: ["feeds": ["drop/1.json", "drop/2.json"]]),
            "drop/1.json": feature(point(24.947, 60.171), ["demand": 1]),
            "drop/2.json": feature(point(24.948, 60.171), [:]),
            "notes/n1.json": ["kind": "note", "text": "hello"],
            "pipes/a.json": ["links": ["next": ["pipes/b.json"]]],
            "pipes/b.json": ["links": ["next": ["pipes/c.json"]]],
            "pipes/c.json": [String: Any](),
        ]
    }

    @Test(
        "every property type, link rule and constraint kind: valid writes pass; violating ones answer 422 with exactly their violations and write nothing"
    )
    func everyRuleThroughHTTP() async throws {
        let s = try await Session.start()
        let set = try await s.server.request(
            "PUT",
            s.p + "/ontology",
            token: s.token,
            json: ["ontology": Self.ontology, "message": "the fiber model"]
        )
        #expect(set.status == 200, "\(set.text)")
        #expect(try await s.commit(Self.network).status == 200)
        // A default fills what the writer left out.
        #expect((try await s.raw("drop/2.json")["properties"] as? [String: Any])?["demand"] as? Int == 1)
        #expect((try await s.raw("cab/1.json")["properties"] as? [String: Any])?["status"] as? String == "planned")

        func refused(_ reply: ServerHarness.Reply, _ expected: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws {
            #expect(reply.status == 422 && reply.errorCode == "validation_failed", "\(reply.text)", sourceLocation: sourceLocation)
            #expect(Self.violations(reply) == expected, "\(reply.text)", sourceLocation: sourceLocation)
        }
        let head = try await s.head()

        // Property types, value rules and a spatial rule on one cabinet.
        try await refused(
            try await s.put(
                "cab/bad1.json",
                Self.feature(
                    Self.point(24.945, 60.18),
                    [
                        "name": "Xyzxyzxyzxyzx", "ports": 50.5, "load": 1.5, "active": "yes", "status": "broken", "installed": "yesterday",
                        "olt": "cab/1.json",
                        "tags": ["a", "b", "c"],
                    ]
                )
            ),
            [
                "Cabinet.active cab/bad1.json /properties/active", "Cabinet.installed cab/bad1.json /properties/installed",
                "Cabinet.load cab/bad1.json /properties/load", "Cabinet.name cab/bad1.json /properties/name",
                "Cabinet.olt cab/bad1.json /properties/olt",
                "Cabinet.ports cab/bad1.json /properties/ports", "Cabinet.status cab/bad1.json /properties/status",
                "Cabinet.tags cab/bad1.json /properties/tags",
                "cabinet-name cab/bad1.json /properties/name", "cabinet-near-road cab/bad1.json /geometry",
                "ports-range cab/bad1.json /properties/ports",
            ]
        )
        // A list's items are checked one by one.
        try await refused(
            try await s.put("cab/bad2.json", Self.feature(Self.point(24.945, 60.171), ["name": "C-2", "tags": ["ok", "toolong"]])),
            ["Cabinet.tags cab/bad2.json /properties/tags/1"]
        )
        // Geometry kind, a required property, an expression, link cardinality and an unknown link.
        try await refused(
            try await s.put(
                "cab/bad3.json",
                Self.feature(
                    ["type": "LineString", "coordinates": [[24.945, 60.171], [24.946, 60.171]]],
                    ["active": true],
                    links: ["uplink": ["olt/1.json", "olt/1.json"], "bogus": ["olt/1.json"]]
                )
            ),
            [
                "Cabinet.geometry cab/bad3.json /geometry", "Cabinet.name cab/bad3.json /properties/name",
                "active-needs-install cab/bad3.json /properties",
                "link:bogus cab/bad3.json /links/bogus", "link:uplink cab/bad3.json /links/uplink",
            ]
        )
        // A property's own pattern, and a link to an entity of the wrong type.
        try await refused(
            try await s.put("olt/2.json", Self.feature(Self.point(24.945, 60.1705), ["name": "OLT-x"])),
            ["OLT.name olt/2.json /properties/name"]
        )
        try await refused(
            try await s.put("cab/bad4.json", Self.feature(Self.point(24.945, 60.171), ["name": "C-4"], links: ["uplink": ["spl/1.json"]])),
            ["link:uplink cab/bad4.json /links/uplink/0"]
        )
        // A discriminated type with no geometry and no undeclared properties.
        try await refused(
            try await s.put("notes/n2.json", ["kind": "note", "text": "x", "extra": 1]),
            ["Note.additionalProperties notes/n2.json /extra"]
        )
        // An enum rule, a missing link target, the hierarchy, and a sum over linked entities.
        try await refused(
            try await s.put(
                "spl/bad.json",
                Self.feature(
                    Self.point(24.946, 60.171),
                    ["ratio": 12, "demand": 1],
                    links: ["feeds": ["drop/1.json", "drop/2.json", "drop/missing.json", "cab/1.json"]]
                )
            ),
            [
                "fiber-order spl/bad.json /links/feeds/3", "link:feeds spl/bad.json /links/feeds/2",
                "ratio-values spl/bad.json /properties/ratio",
                "splitter-demand spl/bad.json /links/feeds",
            ]
        )
        // A count over links.
        try await refused(
            try await s.put(
                "spl/small.json",
                Self.feature(Self.point(24.946, 60.171), ["ratio": 8, "demand": 9], links: ["feeds": (1...9).map { _ in "drop/1.json" }])
            ),
            ["splitter-capacity spl/small.json /links/feeds"]
        )
        // Inside a polygon of a type.
        try await refused(
            try await s.put("drop/out.json", Self.feature(Self.point(25.5, 60.15), [:])),
            ["drop-in-zone drop/out.json /geometry"]
        )
        // No cycles: closing the chain is refused for the changed pipe and the one linking to it.
        try await refused(
            try await s.put("pipes/c.json", ["links": ["next": ["pipes/a.json"]]]),
            ["no-loops pipes/b.json /links/next", "no-loops pipes/c.json /links/next"]
        )
        // A maximum depth, in a multi-file commit.
        try await refused(
            try await s.commit(["pipes/c.json": ["links": ["next": ["pipes/d.json"]]], "pipes/d.json": [String: Any]()]),
            ["pipe-depth pipes/d.json /links"]
        )
        // Deleting an entity others link to breaks them, and is refused.
        try await refused(
            try await s.server.request("DELETE", s.p + "/files/spl/1.json", token: s.token),
            ["link:feeds cab/1.json /links/feeds/0"]
        )
        #expect(try await s.head() == head, "no refused write moved main")

        // The grid index follows new entities: a cabinet by a road laid in the same request is near it.
        let road2 = Self.feature(["type": "LineString", "coordinates": [[25.30, 60.30], [25.31, 60.30]]], [:])
        #expect(
            try await s.commit([
                "roads/r2.json": road2,
                "cab/far.json": Self.feature(Self.point(25.305, 60.3005), ["name": "C-9"], links: ["uplink": ["olt/1.json"]]),
            ]).status == 200
        )
        try await refused(
            try await s.put("cab/farther.json", Self.feature(Self.point(25.305, 60.31), ["name": "C-10"])),
            ["cabinet-near-road cab/farther.json /geometry"]
        )
        // And the other way: moving or removing the road re-checks the cabinets that were near it.
        try await refused(
            try await s.put(
                "roads/r2.json",
                Self.feature(["type": "LineString", "coordinates": [[25.40, 60.40], [25.41, 60.40]]], [:])
            ),
            ["cabinet-near-road cab/far.json /geometry"]
        )
        try await refused(
            try await s.server.request("DELETE", s.p + "/files/roads/r2.json", token: s.token),
            ["cabinet-near-road cab/far.json /geometry"]
        )

        // The index followed the valid changes: removing the link first makes the delete valid.
        var cab = try await s.raw("cab/1.json")
        cab["links"] = ["uplink": ["olt/1.json"]]
        #expect(try await s.put("cab/1.json", cab).status == 200)
        #expect(try await s.server.request("DELETE", s.p + "/files/spl/1.json", token: s.token).status == 200)

        // The audit log records the refusal with its error.
        let audit =
            try await s.server.request("GET", "/v1/orgs/default/audit?action=file.write&outcome=failed", token: s.token).json["entries"]
            as? [[String: Any]] ?? []
        #expect(audit.contains { (($0["record"] as? [String: Any])?["error"] as? String)?.hasPrefix("validation_failed") == true })
    }

    @Test("a merge or a revert that would create a violation is refused")
    func mergesAndRevertsAreValidated() async throws {
        let s = try await Session.start()
        #expect(try await s.server.request("PUT", s.p + "/ontology", token: s.token, json: ["ontology": Self.ontology]).status == 200)
        #expect(try await s.commit(Self.network).status == 200)
        for branch in ["a", "b"] {
            #expect(try await s.server.request("POST", s.p + "/branches", token: s.token, json: ["name": branch]).status == 201)
        }
        // Each side raises one drop's demand: valid alone (2.6 of 3), not together (3.2).
        #expect(try await s.put("drop/1.json", Self.feature(Self.point(24.947, 60.171), ["demand": 1.6]), branch: "a").status == 200)
        #expect(try await s.put("drop/2.json", Self.feature(Self.point(24.948, 60.171), ["demand": 1.6]), branch: "b").status == 200)
        #expect(try await s.server.request("POST", s.p + "/merges", token: s.token, json: ["source": "a", "message": "a"]).status == 200)
        let head = try await s.head()
        let merge = try await s.server.request("POST", s.p + "/merges", token: s.token, json: ["source": "b", "message": "b"])
        #expect(merge.status == 422 && Self.violations(merge) == ["splitter-demand spl/1.json /links/feeds"], "\(merge.text)")
        #expect(try await s.head() == head)

        // Revert: the OLT a cabinet was moved onto is taken away again.
        let added = try await s.put("olt/2.json", Self.feature(Self.point(24.95, 60.17), ["name": "OLT-2"]))
        let addedCommit = try #require(added.json["commit"] as? String)
        var cab = try await s.raw("cab/1.json")
        cab["links"] = ["uplink": ["olt/2.json"], "feeds": ["spl/1.json"]]
        #expect(try await s.put("cab/1.json", cab).status == 200)
        let revert = try await s.server.request("POST", s.p + "/revert", token: s.token, json: ["commit": addedCommit, "message": "undo"])
        #expect(revert.status == 422 && Self.violations(revert) == ["link:uplink cab/1.json /links/uplink/0"], "\(revert.text)")
    }

    @Test(
        "changing the ontology: checked itself, then against existing data; violations refuse it unless accepted, and the query lists them"
    )
    func ontologyMigration() async throws {
        let s = try await Session.start()
        // Data first, with no ontology: nothing is validated.
        #expect(try await s.commit(Self.network).status == 200)
        #expect(try await s.put("spl/9.json", Self.feature(Self.point(24.946, 60.171), ["ratio": 12])).status == 200)

        var broken = Self.ontology as! [String: Any]
        broken["linkTypes"] = [["name": "feeds", "from": "Cabinet", "to": "Nowhere"]]
        let bad = try await s.server.request("PUT", s.p + "/ontology", token: s.token, json: ["ontology": broken])
        #expect(bad.status == 422 && bad.errorCode == "invalid_ontology" && bad.text.contains("Nowhere"), "\(bad.text)")

        let check = try await s.server.request("POST", s.p + "/ontology/check", token: s.token, json: ["ontology": Self.ontology])
        #expect(check.status == 200 && Self.violations(check) == ["ratio-values spl/9.json /properties/ratio"], "\(check.text)")
        let defaulted = check.json["defaulted"] as? [String: [String]] ?? [:]
        #expect(defaulted["drop/2.json"] == ["demand"] && defaulted["cab/1.json"] == ["status"])

        let head = try await s.head()
        let refused = try await s.server.request("PUT", s.p + "/ontology", token: s.token, json: ["ontology": Self.ontology])
        #expect(refused.status == 422 && Self.violations(refused) == ["ratio-values spl/9.json /properties/ratio"])
        #expect(try await s.head() == head)

        let accepted = try await s.server.request(
            "PUT",
            s.p + "/ontology",
            token: s.token,
            json: ["ontology": Self.ontology, "acceptViolations": true]
        )
        #expect(accepted.status == 200, "\(accepted.text)")
        let report = accepted.json["report"] as? [String: Any] ?? [:]
        #expect(report["accepted"] as? Bool == true && report["entities"] as? Int == 12)
        #expect(
            (try await s.raw(".cairn/ontology-migration.json")["violations"] as? [Any])?.count == 1,
            "the accepted violations are recorded"
        )
        #expect((try await s.raw("drop/2.json")["properties"] as? [String: Any])?["demand"] as? Int == 1, "defaults were filled in")

        let query = try await s.server.request("GET", s.p + "/violations", token: s.token)
        #expect(Self.violations(query) == ["ratio-values spl/9.json /properties/ratio"])
        #expect((query.json["byConstraint"] as? [String: Int]) == ["ratio-values": 1])
        // At an earlier ref there was no ontology, so nothing violated it.
        let before = try await s.server.request("GET", s.p + "/violations?ref=\(head ?? "")", token: s.token)
        #expect(before.status == 200 && Self.violations(before).isEmpty)
        // The index is Cabinet's own: nobody writes it directly.
        let direct = try await s.put(".cairn/links/x/y", ["no": true])
        #expect(direct.status == 400 && direct.errorCode == "invalid_path")
    }
}
