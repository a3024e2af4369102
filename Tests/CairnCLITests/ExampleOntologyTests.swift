import Foundation
import Testing

/// The two shipped example ontologies, each with its dataset on the Helsinki road network:
/// they load with no violation, and a change that breaks one of their rules is refused.
@Suite struct ExampleOntologyTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples")

    func load(_ name: String) throws -> CLIHarness {
        let cli = try CLIHarness(project: name)
        let roads = CLIHarness.sharedData.appendingPathComponent("helsinki-roads.geojson").path
        #expect(cli.run("import", roads, "--template", "roads/{@id}.json", "-m", "roads").status == 0)
        #expect(cli.run("apply", Self.examples.appendingPathComponent("\(name)/data.json").path, "-m", "\(name) data").status == 0)
        let set = cli.run("ontology", "set", Self.examples.appendingPathComponent("\(name)/ontology.json").path, "-m", "\(name) model", "--json")
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
        let far = cli.run("write", "fiber/cabinets/9.json", "--content",
                          #"{"type":"Feature","geometry":{"type":"Point","coordinates":[25.5,60.5]},"properties":{"name":"CAB-9","olt":"fiber/olt/1.json"}}"#)
        #expect(far.status == 1 && far.stderr.contains("[cabinet-near-road]"), "\(far.stderr)")
        let orphan = cli.run("write", "fiber/drops/99.json", "--content",
                             #"{"type":"Feature","geometry":{"type":"Point","coordinates":[24.94,60.17]},"properties":{"address":"Somewhere 1"}}"#)
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
        #expect(demand.status == 1 && demand.stderr.contains("water/pumps/1.json") && demand.stderr.contains("[pump-capacity]"), "\(demand.stderr)")
        #expect(cli.run("edit", "water/meters/2.json", "--old", #""demandM3h":11"#, "--new", #""demandM3h":12"#).status == 0)
    }
}
