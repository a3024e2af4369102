import CairnTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The web console (issue 22) in a real browser: headless Chromium driven by selenium against a
/// live server holding the Helsinki features and a small fiber model with an ontology.
@Suite struct ConsoleTests {
    static let api = "/v1/orgs/default/projects/city"

    @Test("sign in with a key, the map draws every feature, the filter narrows map and table, a commit appears live, edits are governed")
    func consoleInABrowser() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "city"]).status == 201)
        let file = CLIHarness.sharedData.appendingPathComponent("helsinki.geojsonseq").path
        #expect(server.cli.run("import", file, "-p", "city", "--template", "osm/{@type}/{@id}-{geometry.type}.json").status == 0)
        let cabinet = #"{"type":"Feature","geometry":{"type":"Point","coordinates":[24.94,60.17]},"properties":{"capacity":24}}"#
        _ = try await server.request("PUT", Self.api + "/files/fiber/cabinets/1.json", token: admin, json: ["content": cabinet])
        let ontology: [String: Any] = [
            "entityTypes": [
                ["id": "osm", "match": ["glob": "osm/**"], "properties": []],
                [
                    "id": "cabinet", "match": ["glob": "fiber/cabinets/*.json"], "geometry": "Point",
                    "properties": [["name": "capacity", "type": "integer", "minimum": 0, "maximum": 96, "unit": "ports"]],
                ],
            ]
        ]
        let put = try await server.request("PUT", Self.api + "/ontology", token: admin, json: ["ontology": ontology])
        #expect(put.status == 200, "\(put.text)")

        let shots = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: shots) }
        let answer = try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/console_browser.py",
            [
                "url": server.base, "org": "default", "key": admin, "project": "city", "filter": "traffic_signals",
                "livePath": "osm/node/0-live.json", "feature": "fiber/cabinets/1.json", "field": "capacity", "bad": "500", "good": "48",
                "tableGood": "60",
                "shots": shots.path,
            ]
        )
        // Every feature drawn, the table holding the first collection's (the OSM features).
        #expect(answer["drawn"] as? Int == 13_699, "\(answer)")
        #expect(answer["rows"] as? Int == 13_698, "\(answer)")
        let filtered = answer["filtered"] as? [String: Int] ?? [:]
        #expect((filtered["rows"] ?? 0) > 0 && filtered["rows"]! < 13_698 && filtered["drawn"] == filtered["rows"], "\(filtered)")
        // Someone else's commit on the open map, without a reload.
        let live = try #require(answer["liveSeconds"] as? Double, "\(answer)")
        // Without a reload, in good time. How fast (< 1 s p50) is measured in BENCHMARKS.md
        // (scripts/bench.sh --only console), not here, where CI runs other suites beside this one.
        #expect(live < 15, "commit to redraw took \(live) s")
        // The refused edit: the violation at its field, nothing stored; the valid one with its reason.
        #expect((answer["violationShown"] as? String ?? "").contains("96"), "\(answer)")
        #expect(answer["badStored"] as? Bool == false)
        #expect(answer["savedMessage"] as? String == "surveyed again", "\(answer)")
        #expect((answer["lineage"] as? String ?? "").contains("surveyed again"), "\(answer)")
        #expect((answer["blame"] as? String ?? "").contains("surveyed again"), "\(answer)")
        // History: the newest commit first (who, a person; why), its page with the change in the
        // table and on the map (the old position and the new), and the branches.
        let newest = answer["timelineFirst"] as? String ?? ""
        #expect(newest.contains("surveyed again") && newest.contains("(person)"), "\(answer)")
        #expect((answer["commitMeta"] as? String ?? "").contains("surveyed again"), "\(answer)")
        let changed = answer["commitChanges"] as? [[String]] ?? []
        #expect(changed.contains(["fiber/cabinets/1.json", "modified", "capacity", "24", "48"]), "\(changed)")
        #expect(answer["commitDrawn"] as? Int == 2, "\(answer)")
        #expect((answer["branches"] as? [String] ?? []).contains("main"), "\(answer)")
        // Sorting by a column, and the ontology's columns (typed, with units) for a type's table.
        #expect(answer["sortedFirst"] as? String == "osm/way/99988877-LineString.json", "\(answer)")
        #expect((answer["cabinetHeaders"] as? [String] ?? []).contains { $0.hasPrefix("capacity (ports)") }, "\(answer)")
        // The slider shows the map before the live commit, and says when that was.
        #expect(answer["drawnNow"] as? Int == 13_700 && answer["drawnBefore"] as? Int == 13_699, "\(answer)")
        #expect((answer["asOf"] as? String ?? "").contains("T"), "\(answer)")
        #expect(answer["drawnAtInstant"] as? Int == 13_699, "an instant just before the live commit: \(answer)")
        let phone = answer["phone"] as? [String: Any] ?? [:]
        #expect(
            phone["stacked"] as? Bool == true && (phone["mapWidth"] as? Double ?? 999) <= (phone["viewport"] as? Double ?? 0),
            "on a phone the map fits the screen and the table comes below it: \(phone)"
        )
        // Editing from the table: the refused value shown at its field, nothing written; the valid one saved.
        #expect(answer["pastEditDisabled"] as? Bool == true, "rows of the past are not editable: \(answer)")
        #expect((answer["tableViolation"] as? String ?? "").contains("96"), "\(answer)")
        #expect(answer["tableBadStored"] as? Bool == false, "\(answer)")
        #expect((answer["tableRow"] as? String ?? "").contains("60") && answer["tableMessage"] as? String == "from the table", "\(answer)")
        let now = try await server.request("GET", Self.api + "/files/fiber/cabinets/1.json?raw=true", token: admin)
        #expect(now.text.contains("\"capacity\":60") && !now.text.contains("\"id\""), "\(now.text)")
        // CSRF: the cookie alone is refused; the cookie is HttpOnly and SameSite=Strict.
        let csrf = answer["csrf"] as? [String: Any] ?? [:]
        #expect(csrf["without"] as? Int == 403 && csrf["with"] as? Int == 200, "\(csrf)")
        let cookie = answer["cookie"] as? String ?? ""
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains(admin), "\(cookie)")
        // axe-core: no serious or critical violation on the pages visited.
        for (page, rules) in answer["axe"] as? [String: [String]] ?? [:] {
            #expect(rules.isEmpty, "\(page): \(rules)")
        }
        #expect(
            Set((answer["axe"] as? [String: Any] ?? [:]).keys) == [
                "signin", "map", "feature", "history", "commit", "branches", "table-edit", "phone",
            ]
        )
        for (name, bytes) in answer["shots"] as? [String: Int] ?? [:] {
            #expect(bytes > 20_000, "the \(name) screenshot is \(bytes) bytes: blank?")
        }
    }

    static func key(_ server: ServerHarness, _ admin: String, _ subject: String, _ role: String) async throws -> String {
        _ = try await server.request("PUT", "/v1/orgs/default/members/\(subject)", token: admin, json: ["role": role])
        let minted = try await server.request("POST", "/v1/orgs/default/keys", token: admin, json: ["subject": subject, "role": role])
        return try #require(minted.json["token"] as? String, "\(minted.text)")
    }

    @Test("a merge request on its page: the change on the map and in the table; a viewer has no controls; a new head voids the approval")
    func mergeRequestReview() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "city"]).status == 201)
        let cabinet = #"{"type":"Feature","geometry":{"type":"Point","coordinates":[24.94,60.17]},"properties":{"capacity":24}}"#
        _ = try await server.request("PUT", Self.api + "/files/fiber/cabinets/1.json", token: admin, json: ["content": cabinet])
        let ana = try await Self.key(server, admin, "user:ana", "designer")
        let vera = try await Self.key(server, admin, "user:vera", "viewer")
        #expect(
            try await server.request("POST", Self.api + "/branches", token: ana, json: ["name": "plan/x", "from": "main"]).status == 201
        )
        let moved = #"{"type":"Feature","geometry":{"type":"Point","coordinates":[24.945,60.171]},"properties":{"capacity":48}}"#
        let added = #"{"type":"Feature","geometry":{"type":"Point","coordinates":[24.95,60.17]},"properties":{"capacity":8}}"#
        for (path, content) in [("fiber/cabinets/1.json", moved), ("fiber/cabinets/2.json", added)] {
            let w = try await server.request(
                "PUT",
                Self.api + "/files/" + path,
                token: ana,
                json: ["content": content, "branch": "plan/x"]
            )
            #expect(w.status == 200, "\(w.text)")
        }
        let drop =
            #"{"type":"Feature","geometry":{"type":"Point","coordinates":[24.941,60.171]},"properties":{"cabinet":"fiber/cabinets/1.json"}}"#
        _ = try await server.request("PUT", Self.api + "/files/fiber/drops/1.json", token: admin, json: ["content": drop])
        let opened = try await server.request(
            "POST",
            Self.api + "/merge-requests",
            token: ana,
            json: ["source": "plan/x", "title": "more capacity", "description": "cabinet 1 moved to the corner; a new cabinet 2"]
        )
        let number = try #require((opened.json["request"] as? [String: Any])?["number"] as? Int, "\(opened.text)")
        let shots = FileManager.default.temporaryDirectory.appendingPathComponent("review-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: shots) }
        let answer = try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/console_review.py",
            [
                "url": server.base, "org": "default", "project": "city", "number": number, "source": "plan/x", "reviewer": admin,
                "viewer": vera, "author": ana, "path": "fiber/cabinets/3.json", "shots": shots.path,
            ]
        )
        #expect(answer["viewerControls"] as? Bool == false && answer["viewerRefused"] as? Int == 403, "\(answer)")
        // Cabinet 1 before and after, cabinet 2 after: three geometries; capacity and geometry rows.
        #expect(answer["drawn"] as? Int == 3 && (answer["rows"] as? Int ?? 0) >= 3, "\(answer)")
        #expect((answer["verdict"] as? String ?? "").hasPrefix("The ontology"), "\(answer)")
        let stale = try #require(answer["staleSeconds"] as? Double, "\(answer)")
        #expect(stale < 15, "commit to notice took \(stale) s")
        #expect((answer["staleOutcome"] as? String ?? "").hasPrefix("Refused"), "\(answer)")
        #expect((answer["approved"] as? String ?? "").hasPrefix("approve"), "\(answer)")
        #expect(answer["merged"] as? String == "Merged." && answer["state"] as? String == "merged", "\(answer)")
        #expect((answer["axe"] as? [String])?.isEmpty == true, "\(answer["axe"] ?? "")")
        let lineage = answer["lineage"] as? String ?? ""
        #expect(lineage.contains("more capacity") && lineage.contains("checked the new head on the map"), "\(lineage)")
        // Links both ways: the drop names the cabinet, and the cabinet's page lists the drop.
        #expect(answer["backlinks"] as? [String] == ["fiber/drops/1.json"], "\(answer)")
        #expect(answer["dropLinks"] as? [String] == ["fiber/cabinets/1.json"], "\(answer)")
        #expect((answer["shots"] as? [String: Int])?["merge-request"] ?? 0 > 20_000)
        let main = try await server.request("GET", Self.api + "/files/fiber/cabinets/3.json?raw=true", token: admin)
        #expect(main.status == 200, "the merged head, with the commit that arrived during review, is on main")
    }

    @Test(
        "a project too large to send whole: the map shows the server's counts per cell, and zooming in on a cell draws the features in view"
    )
    func largeProjectAggregates() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "big"]).status == 201)
        // 25,000 points over a degree of longitude and half a degree of latitude: more than the
        // console fetches whole (20,000), and more than it draws in one view (4,000).
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var rng = SystemRandomNumberGenerator()
        var lines = ""
        for i in 0..<25_000 {
            let (x, y) = (Double.random(in: 24.5...25.5, using: &rng), Double.random(in: 60...60.5, using: &rng))
            lines +=
                #"{"type":"Feature","id":"pts/\#(i).json","geometry":{"type":"Point","coordinates":[\#(x),\#(y)]},"properties":{"n":\#(i)}}"#
            lines += "\n"
        }
        let file = folder.appendingPathComponent("points.geojsonseq")
        try lines.write(to: file, atomically: true, encoding: .utf8)
        #expect(server.cli.run("import", file.path, "-p", "big", "--paths-from-ids").status == 0)

        let answer = try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/console_large.py",
            ["url": server.base, "org": "default", "key": admin, "project": "big", "shots": folder.path]
        )
        // First, the whole collection in view: counts per cell, no feature drawn or fetched.
        let first = answer["first"] as? [String: Any] ?? [:]
        #expect((first["cells"] as? Int ?? 0) > 1 && first["drawn"] as? Int == 0, "\(answer)")
        #expect(first["counted"] as? Int == 25_000, "\(answer)")
        #expect((first["legend"] as? String ?? "").contains("25000 in view of 25000"), "\(answer)")
        #expect((first["table"] as? String ?? "").contains("zoom in"), "\(answer)")
        let firstRequests = answer["firstRequests"] as? [String] ?? []
        #expect(!firstRequests.isEmpty && firstRequests.allSatisfy { $0.contains("/cells") }, "\(firstRequests)")
        // Zoomed in on the fullest cell: the features in view, on the map and in the table, asked by bbox.
        let zoomed = answer["zoomed"] as? [String: Any] ?? [:]
        let drawn = zoomed["drawn"] as? Int ?? 0
        #expect(drawn > 0 && drawn <= 4000 && zoomed["cells"] as? Int == 0 && zoomed["rows"] as? Int == drawn, "\(answer)")
        let inView = answer["inViewRequests"] as? [String] ?? []
        #expect(!inView.isEmpty && inView.allSatisfy { $0.contains("bbox=") }, "\(inView)")
        #expect(answer["axe"] as? [String] == [], "\(answer)")
        #expect((answer["shot"] as? Int ?? 0) > 10_000, "\(answer)")
    }

    @Test(
        "an agent's change appears in the open inbox with its run's reasons; approvals show the change readably; runs replay; audit filters"
    )
    func governancePages() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "city"]).status == 201)
        let site = #"{"type":"Feature","geometry":{"type":"Point","coordinates":[24.94,60.17]},"properties":{"capacity":10}}"#
        _ = try await server.request("PUT", Self.api + "/files/sites/a.json", token: admin, json: ["content": site])
        let minted = try await server.request(
            "POST",
            "/v1/orgs/default/keys",
            token: admin,
            json: ["kind": "agent", "subject": "agent:planner", "role": "designer", "project": "city"]
        )
        let agent = try #require(minted.json["token"] as? String, "\(minted.text)")
        let calls: [[String: Any]] = [
            ["tool": "Read", "arguments": ["path": "sites/a.json"]],
            [
                "tool": "Edit",
                "arguments": ["path": "sites/a.json", "old": "10", "new": "25", "reason": "more capacity for the new block"],
            ],
        ]
        // The ontology goes through the approval queue.
        #expect(server.cli.run("admin", "approvals", "--operations", "ontology").status == 0)
        let model = FileManager.default.temporaryDirectory.appendingPathComponent("ontology-\(UUID().uuidString).json")
        try Data(#"{"entityTypes":[{"id":"site","match":{"glob":"sites/*.json"},"geometry":"Point","properties":[]}]}"#.utf8).write(
            to: model
        )
        defer { try? FileManager.default.removeItem(at: model) }
        #expect(server.cli.run("ontology", "set", model.path, "-p", "city", "-m", "sites").status == 3)

        let shots = FileManager.default.temporaryDirectory.appendingPathComponent("governance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: shots) }
        let answer = try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/console_governance.py",
            [
                "url": server.base, "org": "default", "project": "city", "key": admin, "shots": shots.path, "agent": agent,
                "agentCalls": calls,
            ]
        )
        // The agent's change reached the open inbox without a reload, and its request's page shows
        // the run's calls with the agent's reason and the change on the map (before and after).
        #expect((answer["agentResults"] as? [[String: Any]])?.allSatisfy { $0["isError"] as? Bool == false } == true, "\(answer)")
        let inbox = try #require(answer["inboxSeconds"] as? Double, "\(answer)")
        #expect(inbox < 15, "the inbox showed the request \(inbox) s after the agent's session ended")
        #expect((answer["runCalls"] as? String ?? "").contains("more capacity for the new block"), "\(answer)")
        #expect(answer["mrDrawn"] as? Int == 2, "\(answer)")
        #expect((answer["change"] as? String ?? "").contains("\"entityTypes\""), "the change is shown as JSON: \(answer)")
        #expect((answer["decided"] as? String ?? "").contains("approved"), "\(answer)")
        let ontology = try await server.request("GET", Self.api + "/ontology", token: admin)
        #expect(ontology.text.contains("site"), "the approved ontology is in force: \(ontology.text)")
        #expect(answer["calls"] as? [String] == ["Read", "Edit"], "\(answer)")
        #expect(!(answer["replay"] as? String ?? "").isEmpty && !(answer["replay"] as? String ?? "").hasPrefix("refused"), "\(answer)")
        // The workflow run: listed with the agent sessions, its steps each succeeded, its engine run linked.
        #expect((answer["workflowListed"] as? String ?? "").contains("survey"), "\(answer)")
        #expect(answer["workflowSteps"] as? [[String]] == [["look", "Read", "succeeded"], ["add", "Write", "succeeded"]], "\(answer)")
        #expect((answer["workflowStatus"] as? String ?? "").hasPrefix("succeeded"), "\(answer)")
        #expect(answer["workflowEngineRun"] as? Bool == true, "\(answer)")
        #expect((answer["audit"] as? Int ?? 0) > 0)
        let filtered = answer["auditFiltered"] as? [String] ?? []
        #expect(!filtered.isEmpty && filtered.allSatisfy { $0 == "approval.approve" }, "\(filtered)")
        for (page, rules) in answer["axe"] as? [String: [String]] ?? [:] { #expect(rules.isEmpty, "\(page): \(rules)") }
        #expect((answer["shots"] as? [String: Int])?["run"] ?? 0 > 20_000)
        // Access: the grants in force, and the evaluation of a question (an admin may configure the
        // project; the agent, a designer, may not).
        #expect((answer["grants"] as? Int ?? 0) > 0, "\(answer)")
        #expect((answer["ask"] as? String ?? "").hasPrefix("yes"), "\(answer)")
        #expect((answer["askAgent"] as? String ?? "").hasPrefix("no"), "\(answer)")
    }

    @Test("sign-in through the organization's identity provider: authorization code with PKCE; a callback works once")
    func oidcSignIn() async throws {
        let idp = try ServerIdentityTests.Provider()
        defer { idp.stop() }
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        let put = try await server.request(
            "PUT",
            "/v1/orgs/default/identity",
            token: admin,
            json: ["issuer": idp.base, "audience": "cairn-test"]
        )
        #expect(put.status == 200, "\(put.text)")
        let grant = try await server.request(
            "PUT",
            "/v1/orgs/default/grants/planners",
            token: admin,
            json: ["subject": "group:planners", "role": "designer", "target": ["kind": "organization"]]
        )
        #expect(grant.status == 200, "\(grant.text)")
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "city"]).status == 201)
        let answer = try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/console_oidc.py",
            ["url": server.base, "org": "default", "key": admin]
        )
        // A file in a folder the open page had never seen: its collection joins the map live.
        #expect(answer["newLayer"] as? Bool == true && answer["drawn"] as? Int == 1, "\(answer)")
        #expect((answer["protected"] as? String ?? "").contains("merge request !1"), "\(answer)")
        let unchanged = try await server.request("GET", "/v1/orgs/default/projects/city/files/sites/new.json?raw=true", token: admin)
        #expect(unchanged.text.contains("24.95"), "the protected branch is unchanged: \(unchanged.text)")
        #expect(answer["projects"] as? Bool == true && (answer["who"] as? String ?? "").contains("user:alice"), "\(answer)")
        #expect(answer["cookie"] as? Bool == true, "\(answer)")
        #expect(answer["replayed"] as? Int == 401 && answer["forged"] as? Int == 401, "\(answer)")
        // No provider, or no such organization: one and the same answer.
        let none = try await server.request("GET", "/console/oidc/start?organization=nowhere", token: nil)
        #expect(none.status == 404)
    }

    @Test("the console's pages come with a strict Content-Security-Policy; a cookie without a session, or signed out, is 401")
    func policyAndSessions() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        let root = try await server.request("GET", "/console/", token: nil)
        #expect(root.status == 200 && root.text.contains("app.js"))
        let csp = root.headers["Content-Security-Policy"] ?? root.headers["content-security-policy"] ?? ""
        #expect(csp.contains("default-src 'self'") && csp.contains("script-src 'self'") && !csp.contains("unsafe"), "\(csp)")
        let leaflet = try await server.request("GET", "/console/vendor/leaflet/leaflet.esm.js", token: nil)
        #expect(leaflet.status == 200, "Leaflet from Debian's libjs-leaflet")
        for bad in ["/console/vendor/leaflet/../../../etc/passwd", "/console/vendor/leaflet/.hidden", "/console/nothing.js"] {
            #expect(try await server.request("GET", bad, token: nil).status == 404, "\(bad)")
        }
        // A wrong key signs nobody in, and looks like any other failure.
        var request = URLRequest(url: URL(string: server.base + "/console/session")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["organization": "default", "key": "cairn_wrong"])
        let (_, refused) = try await URLSession.shared.data(for: request)
        #expect((refused as? HTTPURLResponse)?.statusCode == 401)
        // A form post (not JSON) cannot sign in: no login CSRF.
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data("organization=default&key=\(admin)".utf8)
        let (_, form) = try await URLSession.shared.data(for: request)
        #expect((form as? HTTPURLResponse)?.statusCode == 400)
        // An unknown session cookie is the same 401 as no credential.
        var forged = URLRequest(url: URL(string: server.base + "/v1/orgs/default/projects")!)
        forged.setValue("cairn_session=forged", forHTTPHeaderField: "Cookie")
        let (body, answer) = try await URLSession.shared.data(for: forged)
        #expect((answer as? HTTPURLResponse)?.statusCode == 401, "\(String(decoding: body, as: UTF8.self))")
    }
}
