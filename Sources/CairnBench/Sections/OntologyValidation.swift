import CairnCore
import CairnGovernance
import CairnOntology
import CairnSQLite
@_spi(StoreWrites) import CairnStore
import Foundation

extension Bench {
    /// The ontology on the write path: a one-entity write in a project of 100k entities with and
    /// without an ontology (the ratio is validation's cost), and a full violation scan beside
    /// reading every file.
    func ontologyValidation() async throws {
        let cabinets = quick ? 100 : 1000
        let splitters = 9
        let drops = 10
        let total = cabinets * (1 + splitters * (1 + drops))
        report.section(
            "Ontology validation: a one-entity write in a project of \(total) entities",
            "Two projects in one store hold the same \(total) GeoJSON entities: \(cabinets) cabinets, each feeding \(splitters) "
                + "splitters, each feeding \(drops) drops (links in the files). One has an ontology (3 entity types with typed properties, "
                + "a `feeds` link type, an enum, a count and a sum over links, a hierarchy and an expression); the other has none, so "
                + "nothing is validated. Each write changes one drop's demand through `Gateway.write` in process (authorization, "
                + "validation, commit, audit): the drop is checked, and so is its splitter, whose sum over its \(drops) drops depends on "
                + "it. 600 sequential pairs of writes (one to each project, alternating which goes first; the first 100 pairs warm up), "
                + "medians. The full scan is `Gateway.violations` at main (every entity and rule); its peer reads every file of the project "
                + "through the store."
        )
        let (_, repo) = try freshStore("ontology")
        let (org, _) = try await Tenancy.ensure("bench", repository: repo)
        let gateway = Gateway(repository: repo, limits: GatewayLimits(requestsPerSecond: 0))
        let caller = try await gateway.localCaller(organization: org, name: "bench", reason: "bench")
        var files: [FileChange] = []
        func f(_ lon: Double, _ lat: Double, _ props: String, _ links: [String]) -> [UInt8] {
            let l = links.isEmpty ? "" : ",\"links\":{\"feeds\":[\(links.map { "\"\($0)\"" }.joined(separator: ","))]}"
            return Array(
                "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[\(lon),\(lat)]},\"properties\":{\(props)}\(l)}"
                    .utf8
            )
        }
        for c in 0..<cabinets {
            let spl = (0..<splitters).map { "s/\(c)/\($0).json" }
            files.append(.write(path: "c/\(c).json", content: f(24.9, 60.1, "\"name\":\"CAB-\(c)\",\"ports\":24", spl)))
            for s in 0..<splitters {
                let dr = (0..<drops).map { "d/\(c)/\(s)/\($0).json" }
                files.append(.write(path: spl[s], content: f(24.9, 60.1, "\"ratio\":16,\"demand\":100", dr)))
                for d in 0..<drops {
                    files.append(.write(path: dr[d], content: f(24.9, 60.1, "\"demand\":1,\"address\":\"Street \(d)\"", [])))
                }
            }
        }
        let ontology = #"""
            {"entityTypes": [
              {"id": "Cabinet", "match": {"glob": "c/*.json"}, "geometry": "Point", "properties": [
                {"name": "name", "type": "string", "required": true, "pattern": "^CAB-[0-9]+$"}, {"name": "ports", "type": "integer", "minimum": 0, "maximum": 96},
                {"name": "status", "type": "enum", "values": ["planned", "built"], "default": "built"}]},
              {"id": "Splitter", "match": {"glob": "s/**"}, "geometry": "Point", "properties": [
                {"name": "ratio", "type": "integer", "required": true}, {"name": "demand", "type": "number", "minimum": 0}]},
              {"id": "Drop", "match": {"glob": "d/**"}, "geometry": "Point", "properties": [
                {"name": "demand", "type": "number", "minimum": 0, "default": 1}, {"name": "address", "type": "string", "minLength": 3}]}],
             "linkTypes": [{"name": "feeds", "from": "*", "to": "*"}],
             "constraints": [
              {"name": "ratio", "message": "ratios are 8 to 64", "kind": "enum", "type": "Splitter", "property": "ratio", "values": [8, 16, 32, 64]},
              {"name": "capacity", "message": "at most ratio drops", "kind": "count", "type": "Splitter", "link": "feeds", "limitProperty": "ratio"},
              {"name": "demand", "message": "demand within the splitter's", "kind": "sum", "type": "Splitter", "link": "feeds", "sumProperty": "demand", "limitProperty": "demand"},
              {"name": "order", "message": "feeds go down", "kind": "hierarchy", "link": "feeds", "order": ["Cabinet", "Splitter", "Drop"]},
              {"name": "demand-positive", "message": "a drop's demand is positive", "kind": "expression", "type": "Drop", "expression": "demand > 0"}]}
            """#
        var projects: [String: Project] = [:]
        for name in ["plain", "typed"] {
            log("ontology: \(total) entities in \(name)")
            _ = try await gateway.createProject(caller, name: name)
            let p = try await repo.project(name, organization: org.id)
            for chunk in stride(from: 0, to: files.count, by: 20_000) {
                try await p.commit(Array(files[chunk..<min(chunk + 20_000, files.count)]), metadata: Self.meta)
            }
            projects[name] = p
        }
        log("ontology: setting the ontology (a migration over every entity)")
        var report0: MigrationReport?
        let migration = try await Measure.seconds {
            report0 = try await gateway.ontology.put(caller, project: "typed", ontology: Array(ontology.utf8)).1
        }
        precondition(report0?.violations.isEmpty == true && report0?.entities == total, "the bench data must be valid")

        var rng = SystemRandomNumberGenerator()
        // Writes to the two projects alternate (which goes first alternates too), so both see
        // the same machine; the paired differences give the cost validation adds.
        var samples: [String: [Double]] = ["plain": [], "typed": []]
        var differences: [Double] = []
        for i in 0..<600 {
            let c = Int.random(in: 0..<cabinets, using: &rng)
            let s = Int.random(in: 0..<splitters, using: &rng)
            let d = Int.random(in: 0..<drops, using: &rng)
            let content = f(24.9, 60.1, "\"demand\":\(1 + (i % 5)),\"address\":\"Street \(d)\"", [])
            var pair: [String: Double] = [:]
            for name in i % 2 == 0 ? ["plain", "typed"] : ["typed", "plain"] {
                pair[name] = try await Measure.seconds {
                    try await gateway.write(caller, project: name, path: "d/\(c)/\(s)/\(d).json", content: content)
                }
            }
            if i >= 100 {  // the first 100 pairs warm the caches
                samples["plain"]!.append(pair["plain"]!)
                samples["typed"]!.append(pair["typed"]!)
                differences.append(pair["typed"]! - pair["plain"]!)
            }
        }
        let typed = Measure.medianOf(samples["typed"]!)
        let plain = Measure.medianOf(samples["plain"]!)
        let added = Measure.medianOf(differences)
        report.row(
            "one-entity write, p50 (with ontology vs none)",
            Measure.ms(typed),
            "the same write, no ontology",
            Measure.ms(plain),
            Measure.ratio(typed / plain)
        )
        report.row(
            "validation's added time per write (median of paired differences)",
            Measure.ms(added),
            "target",
            "< 1 ms",
            added < 0.001 ? "met" : "not met"
        )

        // The validation alone, on a staged change (no commit): what the write pays for it.
        let typedProject = projects["typed"]!
        let compiled = try CompiledOntology.parse(Array(ontology.utf8))
        var alone: [Double] = []
        for i in 0..<300 {
            let c = Int.random(in: 0..<cabinets, using: &rng)
            let s = Int.random(in: 0..<splitters, using: &rng)
            let d = Int.random(in: 0..<drops, using: &rng)
            let staged = try await typedProject.stage(
                at: "main",
                changes: ["d/\(c)/\(s)/\(d).json": .some(f(24.9, 60.1, "\"demand\":\(1 + (i % 5)),\"address\":\"Street \(d)\"", []))]
            )
            alone.append(try await Measure.seconds { _ = try await OntologyValidation.incremental(staged, ontology: compiled) })
        }
        report.row("incremental validation alone (the drop and its splitter), p50", Measure.ms(Measure.medianOf(alone)), "", "", "")

        log("ontology: full scans")
        var found = 0
        let scan = try await Measure.median(runs: 3) { _ in
            found = try await gateway.ontology.violations(caller, project: "typed", limit: 100_000).violations.count
        }
        precondition(found == 0)
        let p = projects["typed"]!
        var bytes = 0
        let readAll = try await Measure.median(runs: 3) { _ in
            bytes = 0
            var cursor: String?
            repeat {
                let page = try await p.glob("**", at: "main", limit: 10_000, after: cursor)
                for path in page.paths { bytes += try await p.readBytes(path, at: "main").2.count }
                cursor = page.next
            } while cursor != nil
        }
        report.row(
            "full violation scan, \(total) entities",
            Measure.ms(scan),
            "read every file (glob + read)",
            Measure.ms(readAll),
            Measure.ratio(scan / readAll)
        )
        report.row("set the ontology (migration: validate all, build the link index)", Measure.ms(migration), "", "", "")
    }
}
