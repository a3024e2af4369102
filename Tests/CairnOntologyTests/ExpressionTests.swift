import CairnCore
import CairnStore
import Testing

@testable import CairnOntology

/// The constraint expression language: what it computes, and what it refuses to parse.
@Suite struct ExpressionTests {
    func holds(_ source: String, _ properties: [String: JSONValue] = [:], links: [String: Int] = [:]) throws -> Bool {
        try Expression(source).holds(in: .init(properties: properties, linkCounts: links))
    }

    @Test func arithmeticComparisonAndLogic() throws {
        let p: [String: JSONValue] = [
            "pressure": .int(50), "name": .string("M-1"), "site": .object(["floor": .int(2)]), "tags": .array([.string("a")]),
        ]
        #expect(try holds("pressure >= 40 && pressure <= 60", p))
        #expect(try !holds("pressure > 50", p))
        #expect(try holds("pressure * 2 - 10 == 90", p))
        #expect(try holds("pressure % 7 == 1 && -pressure < 0", p))
        #expect(try holds("(1 + 2) * 3 == 9"))
        #expect(try holds("site.floor == 2 && len(name) == 3 && len(tags) == 1", p))
        #expect(try holds("name == 'M-1' && name != \"M-2\" && name < 'N'", p))
        #expect(try holds("abs(0 - 3) == 3"))
        #expect(try holds("count(serves) <= 8", links: ["serves": 8]))
        #expect(try !holds("count(serves) <= 8", links: ["serves": 9]))
    }

    @Test func missingValuesAreFalseNotErrors() throws {
        #expect(try !holds("pressure >= 40"))
        #expect(try holds("!has(pressure)"))
        #expect(try holds("!active || has(installed)"))
        #expect(try !holds("active && true"))
        #expect(try !holds("name + 1 > 0", ["name": .string("x")]))
        #expect(try !holds("1 / 0 == 1"))
    }

    @Test func malformedAndOversizedExpressionsAreRefused() {
        for bad in ["pressure >=", "(1 + 2", "1 + + ", "a.", "x @ y", "'open", "count(", "1 2"] {
            #expect(throws: CairnError.self, "\(bad)") { _ = try Expression(bad) }
        }
        let long = (0..<300).map { "x\($0)" }.joined(separator: " + ")
        #expect(throws: CairnError.self) { _ = try Expression(long) }
        let deep = String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100)
        #expect(throws: CairnError.self) { _ = try Expression(deep) }
    }
}

/// An ontology is checked itself before it is used.
@Suite struct OntologyCheckTests {
    func compile(_ json: String) throws -> CompiledOntology { try CompiledOntology.parse(Array(json.utf8)) }

    @Test func unknownTypesDanglingReferencesAndCyclesAreRefused() {
        let cases: [(String, String)] = [
            (
                #"{"entityTypes":[{"id":"A","match":{"glob":"a/*"},"properties":[{"name":"b","type":"reference","to":"B"}]}]}"#,
                "unknown entity type 'B'"
            ),
            (
                #"{"entityTypes":[{"id":"A","match":{"glob":"a/*"},"properties":[]}],"linkTypes":[{"name":"l","from":"A","to":"Z"}]}"#,
                "unknown entity type 'Z'"
            ),
            (
                #"{"entityTypes":[{"id":"A","match":{"glob":"a/*"},"properties":[]},{"id":"A","match":{"glob":"b/*"},"properties":[]}]}"#,
                "declared twice"
            ),
            (
                #"{"entityTypes":[{"id":"A","match":{"glob":"a/*"},"properties":[]}],"linkTypes":[{"name":"l","from":"A","to":"A"}],"constraints":[{"name":"h","message":"m","kind":"hierarchy","link":"l","order":["A","A"]}]}"#,
                "a cycle"
            ),
            (
                #"{"entityTypes":[{"id":"A","match":{"glob":"a/*"},"properties":[{"name":"s","type":"string","pattern":"("}]}]}"#,
                "does not compile"
            ),
            (
                #"{"entityTypes":[{"id":"A","match":{"glob":"a/*"},"properties":[]}],"constraints":[{"name":"e","message":"m","kind":"expression","type":"A","expression":"x >"}]}"#,
                "ends too early"
            ),
            (#"{"entityTypes":[{"id":"A","match":{},"properties":[]}]}"#, "matches no files"),
            (
                #"{"entityTypes":[{"id":"A","match":{"glob":"a/*"},"properties":[]}],"constraints":[{"name":"c","message":"m","kind":"count","type":"A"}]}"#,
                "needs link"
            ),
            (#"{"entityTypes":"nope"}"#, "not a valid ontology document"),
        ]
        for (json, expected) in cases {
            do {
                _ = try compile(json)
                Issue.record("accepted: \(json)")
            } catch let e as CairnError {
                #expect(e.code == .invalidOntology && e.message.contains(expected), "\(e.message)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func theFirstMatchingTypeGovernsAFile() throws {
        let o = try compile(
            #"""
            {"entityTypes":[
              {"id":"Note","match":{"property":"kind","equals":"note"},"properties":[]},
              {"id":"Site","match":{"glob":"sites/*.json"},"properties":[]}]}
            """#
        )
        #expect(o.typeID(of: Entity(path: "sites/a.json", object: ["kind": .string("note")])) == "Note")
        #expect(o.typeID(of: Entity(path: "sites/a.json", object: [:])) == "Site")
        #expect(o.typeID(of: Entity(path: "other/a.json", object: [:])) == nil)
    }

    @Test func distancesAndContainment() {
        // One degree of latitude is about 111.2 km.
        #expect(abs(Geo.haversine((24.9, 60.0), (24.9, 61.0)) - 111_195) < 50)
        let d = Geo.distance(
            .object(["type": .string("Point"), "coordinates": .array([.double(24.945), .double(60.171)])]),
            .object([
                "type": .string("LineString"),
                "coordinates": .array([.array([.double(24.94), .double(60.17)]), .array([.double(24.95), .double(60.17)])]),
            ])
        )
        #expect(d.map { abs($0 - 111.2) < 2 } == true, "\(String(describing: d))")
        let square: [[Geo.Position]] = [[(0, 0), (10, 0), (10, 10), (0, 10), (0, 0)], [(4, 4), (6, 4), (6, 6), (4, 6), (4, 4)]]
        #expect(Geo.contains(square, (2, 2)))
        #expect(!Geo.contains(square, (5, 5)), "inside the hole")
        #expect(!Geo.contains(square, (11, 5)))
    }
}
