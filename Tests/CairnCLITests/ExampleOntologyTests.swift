import Foundation
import Testing

/// The two shipped example ontologies, each with its dataset on the Helsinki road network:
/// they load with no violation, and a change that breaks one of their rules is refused.
@Suite struct ExampleOntologyTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("examples")

    func load(_ name: String) throws -> CLIHarness {
        let cli = try CLIHarness(project: name)
        let roads = CLIHarness.sharedData.appendingPathComponent("helsinki-roads.geojson").path
        #expect(cli.run("import", roads, "--template", "roads/{@id}.json", "-m", "roads").status == 0)
        #expect(cli.run("apply", Self.examples.appendingPathComponent("\(name)/data.json").path, "-m", "\(name) data").status == 0)
        let set = cli.run(
            "ontology",
            "set",
            Self.examples.appendingPathComponent("\(name)/ontology.json").path,
            "-m",
            "\(name) model",
            "--json"
        )
        #expect(set.status == 0, "\(set.stdout) \(set.stderr)")
        #expect((set.object["report"] as? [String: Any])?["violations"] as? [Any] != nil)
        #expect(((set.object["report"] as? [String: Any])?["violations"] as? [Any])?.isEmpty == true, "\(set.stdout)")
        #expect(cli.run("violations").status == 0)
        return cli
    }

    @Test("fiber to the home: loads clean; a 1:12 splitter, a cabinet far from any road, a drop without an ONU are refused")
    func fiber() throws {
        let cli = try load("fiber")
        let ratio = cli.run("edit", "fiber/splitters/1.json", "--old", #""ratio":8"#, "--new", #""ratio":12"#)
        #expect(ratio.status == 1 && ratio.stderr.contains("[splitter-ratio]"), "\(ratio.stderr)")
        let far = cli.run(
            "write",
            "fiber/cabinets/9.json",
            "--content",
            #"{"type":"Feature","geometry":{"type":"Point","coordinates":[25.5,60.5]},"properties":{"name":"CAB-9","olt":"fiber/olt/1.json"}}"#
        )
        #expect(far.status == 1 && far.stderr.contains("[cabinet-near-road]"), "\(far.stderr)")
        let orphan = cli.run(
            "write",
            "fiber/drops/99.json",
            "--content",
            #"{"type":"Feature","geometry":{"type":"Point","coordinates":[24.94,60.17]},"properties":{"address":"Somewhere 1"}}"#
        )
        #expect(orphan.status == 1 && orphan.stderr.contains("[link:terminates]"), "\(orphan.stderr)")
        // Deleting an ONU a drop terminates at is refused on the drop.
        let onu = cli.run("rm", "fiber/onus/1.json")
        #expect(onu.status == 1 && onu.stderr.contains("fiber/drops/1.json /links/terminates/0"), "\(onu.stderr)")
    }

    @Test("water distribution: loads clean; 70 psi at a meter, or more demand than the pump supplies, is refused")
    func water() throws {
        let cli = try load("water")
        let pressure = cli.run("edit", "water/meters/1.json", "--old", #""pressurePsi":44"#, "--new", #""pressurePsi":70"#)
        #expect(pressure.status == 1 && pressure.stderr.contains("[meter-pressure]"), "\(pressure.stderr)")
        // The pump supplies 8 meters with 108 m³/h of its 120: one meter's demand up by 20 breaks it,
        // and the pump, which links to the meter, is the one reported.
        let demand = cli.run("edit", "water/meters/2.json", "--old", #""demandM3h":11"#, "--new", #""demandM3h":31"#)
        #expect(
            demand.status == 1 && demand.stderr.contains("water/pumps/1.json") && demand.stderr.contains("[pump-capacity]"),
            "\(demand.stderr)"
        )
        #expect(cli.run("edit", "water/meters/2.json", "--old", #""demandM3h":11"#, "--new", #""demandM3h":12"#).status == 0)
    }
}

/// The field-crew example: the README's Run session on depots and work orders beside Helsinki streets.
@Suite struct ExampleRunTests {
    @Test("field crews: route, snap, area and isochrone from the example's files; the written result names every input's blob")
    func crew() throws {
        let cli = try ExampleOntologyTests().load("crew")
        // Points come from files: a depot to a work order, by travel time.
        let route = cli.run("run", "route", "--input", "crew/depots/1.json", "--input", "crew/orders/5.json", "--weight", "time", "--json")
        #expect(route.status == 0, "\(route.stderr)")
        let r = route.object["result"] as? [String: Any] ?? [:]
        let snapped = r["snapped"] as? [[String: Any]] ?? []
        #expect(snapped.count == 2)
        let ends = snapped.compactMap { ($0["point"] as? [String: Double]).map { [$0["lon"] ?? 0, $0["lat"] ?? 0] } }
        let straight = cli.run(
            "run",
            "distance",
            "--point",
            ends.map { "\($0[0]),\($0[1])" }.first ?? "",
            "--point",
            ends.map { "\($0[0]),\($0[1])" }.last ?? "",
            "--json"
        )
        let geodesic = ((straight.object["result"] as? [String: Any])?["geodesic"] as? Double) ?? .infinity
        #expect(
            (r["length"] as? Double ?? 0) >= geodesic * 0.999 && (r["time"] as? Double ?? 0) > 0 && !(r["roads"] as? [Any] ?? []).isEmpty,
            "\(r)"
        )
        // The point files are listed with their blobs; the road files by their road set's content id (issue 23).
        let inputs = (route.object["inputs"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        let roads = route.object["roads"] as? [String: Any] ?? [:]
        #expect(
            inputs.contains("crew/depots/1.json") && inputs.contains("crew/orders/5.json") && (roads["id"] as? String)?.count == 64
                && (roads["files"] as? Int ?? 0) > 0 && roads["glob"] as? String == "roads/**",
            "\(route.stdout.prefix(400))"
        )
        // Every work order snaps within the ontology's 50 m of a road, fraction within its road.
        let snaps = (cli.run("run", "snap", "--input", "crew/orders/*.json", "--json").object["result"] as? [[String: Any]]) ?? []
        #expect(
            snaps.count == 12
                && snaps.allSatisfy { ($0["distance"] as? Double ?? 99) < 50 && (0...1).contains($0["fraction"] as? Double ?? -1) }
        )
        // The zone is 0.08° × 0.035° at 60.17° N: about 4.43 km × 3.87 km on the ellipsoid.
        let area =
            (cli.run("run", "area", "--input", "crew/zones/centre.json", "--json").object["result"] as? [String: Any])?["geodesic"]
            as? Double ?? 0
        #expect(abs(area - 17.16e6) < 0.01 * 17.16e6, "\(area)")
        // What the Kallio depot's crew reaches in ten minutes, written with its provenance.
        let iso = cli.run(
            "run",
            "isochrone",
            "--input",
            "crew/depots/2.json",
            "--budget",
            "600",
            "--weight",
            "time",
            "--output",
            "analysis/reach.json",
            "-m",
            "crew reach",
            "--json"
        )
        #expect(iso.status == 0, "\(iso.stderr)")
        let written = cli.run("read", "analysis/reach.json")
        let provenance = (try? JSONSerialization.jsonObject(with: Data(written.stdout.utf8))) as? [String: Any] ?? [:]
        #expect(provenance["function"] as? String == "isochrone")
        let read = (provenance["inputs"] as? [[String: Any]] ?? []).first { $0["path"] as? String == "crew/depots/2.json" }
        #expect((read?["blob"] as? String)?.count == 64)
        #expect((provenance["roads"] as? [String: Any])?["id"] as? String == roads["id"] as? String)
        // Two vans from the Kamppi depot serve every work order, with costs along the roads.
        let plan = cli.run(
            "solve",
            "routing",
            "--depots",
            "crew/depots/1.json",
            "--stops",
            "crew/orders/*.json",
            "--vehicles",
            "2",
            "--roads",
            "roads/**",
            "--seed",
            "3",
            "--iterations",
            "300",
            "--json"
        )
        #expect(plan.status == 0, "\(plan.stdout) \(plan.stderr)")
        let routes = (plan.object["routes"] as? [String: Any])?["routes"] as? [[String: Any]] ?? []
        let visited = routes.flatMap { ($0["visits"] as? [[String: Any]] ?? []).compactMap { $0["stop"] as? String } }
        #expect(visited.count == 12 && Set(visited).count == 12 && visited.allSatisfy { $0.hasPrefix("crew/orders/") }, "\(visited)")
        let total = routes.reduce(0) { $0 + ($1["cost"] as? Double ?? 0) }
        #expect(total > 0 && abs(total - ((plan.object["result"] as? [String: Any])?["objective"] as? Double ?? 0)) < 1e-6)
        // Each van's cost is the metres `route` answers for its legs, depot to stops and back:
        // the plan's matrix (one search per place) agrees with single routes asked apart.
        func place(_ path: String) -> [Double] {
            let feature = (try? JSONSerialization.jsonObject(with: Data(cli.run("read", path).stdout.utf8))) as? [String: Any]
            return (feature?["geometry"] as? [String: Any])?["coordinates"] as? [Double] ?? []
        }
        let depot = place("crew/depots/1.json")
        for van in routes {
            let stops = (van["visits"] as? [[String: Any]] ?? []).compactMap { $0["stop"] as? String }.map(place)
            guard !stops.isEmpty else { continue }
            let legs = zip([depot] + stops, stops + [depot]).flatMap { a, b in ["--pair", "\(a[0]),\(a[1]),\(b[0]),\(b[1])"] }
            let asked = cli.run(["run", "routes"] + legs + ["--json"])
            let lengths = ((asked.object["result"] as? [String: Any])?["legs"] as? [[String: Any]] ?? []).compactMap {
                $0["length"] as? Double
            }
            #expect(lengths.count == stops.count + 1, "\(asked.stdout.prefix(300)) \(asked.stderr)")
            let cost = van["cost"] as? Double ?? 0
            #expect(abs(lengths.reduce(0, +) - cost) <= 1e-6 * cost, "\(lengths.reduce(0, +)) m along the roads vs the plan's \(cost)")
        }
        // Two crews of 120 minutes cannot take 630 minutes of orders: the most urgent go first,
        // within each crew's minutes, optimal as HiGHS finds the written model too.
        let crews = cli.run(
            "solve",
            "crew_assignment",
            "--depots",
            "crew/depots/*.json",
            "--stops",
            "crew/orders/*.json",
            "--capacity",
            "120",
            "--output",
            "runs",
            "--json"
        )
        #expect(crews.status == 0, "\(crews.stdout) \(crews.stderr)")
        #expect((crews.object["result"] as? [String: Any])?["status"] as? String == "optimal")
        let given = crews.object["assignments"] as? [String: String] ?? [:]
        var minutes: [String: Double] = [:]
        for (order, crew) in given {
            let props =
                (try? JSONSerialization.jsonObject(with: Data(cli.run("read", order).stdout.utf8)) as? [String: Any])?["properties"]
                as? [String: Any]
            minutes[crew, default: 0] += props?["minutes"] as? Double ?? 0
        }
        #expect(!given.isEmpty && given.count < 12 && minutes.values.allSatisfy { $0 > 0 && $0 <= 120 }, "\(given) \(minutes)")
        let crewFolder = try #require(crews.object["folder"] as? String)
        let crewModel = try JSONSerialization.jsonObject(
            with: Data(cli.run("read", "\(crewFolder)/model.json", "--limit", "100000").stdout.utf8)
        )
        let highs = try ReferenceSolver.highs(crewModel)
        let objective = (crews.object["result"] as? [String: Any])?["objective"] as? Double ?? 0
        #expect(highs.status == "optimal" && abs(highs.objective - objective) <= 1e-6 * objective, "\(highs) vs \(objective)")
        // A zone is not a point to route from.
        let wrong = cli.fails("invalid_argument", "run", "route", "--input", "crew/zones/centre.json", "--point", "24.94,60.17")
        #expect(wrong.stdout.contains("not a Point"), "\(wrong.stdout)")
    }
}
