import CairnEngine
import CairnTestSupport
import Foundation
import Testing

/// What the eight tools advertise in `tools/list` is what the engine enforces: for every bound,
/// enumeration, type, required and unknown argument in every advertised schema, a call that
/// breaks it is refused as `invalid_argument` naming the argument, recorded in the run, and
/// changes nothing. The calls are made from the schemas the official client lists, so a limit
/// added to a schema is tested without touching this file.
@Suite struct ToolSchemaEnforcementTests {
    /// A value that fits `schema` (for the arguments a violation needs alongside it).
    static func valid(_ schema: [String: Any]) -> Any {
        if let choices = schema["enum"] as? [Any], let first = choices.first { return first }
        switch schema["type"] as? String {
        case "integer", "number": return (schema["minimum"] as? Double).map { $0 + 1 } ?? 1
        case "boolean": return true
        case "array": return []
        case "object": return [:] as [String: Any]
        default: return "fiber/cabinets/1.json"
        }
    }

    /// Each way to break one property's schema: (the bad value, what the refusal must say).
    static func violations(_ schema: [String: Any]) -> [(Any, String)] {
        var out: [(Any, String)] = []
        let type = schema["type"] as? String
        if let maximum = schema["maximum"] as? Double { out.append((type == "integer" ? maximum + 1 : maximum + 0.5, "at most")) }
        if let minimum = schema["minimum"] as? Double { out.append((type == "integer" ? minimum - 1 : minimum - 0.5, "at least")) }
        if let bound = schema["exclusiveMinimum"] as? Double { out.append((bound, "more than")) }
        if schema["enum"] != nil { out.append(("not-one-of-them", "one of")) }
        if (schema["minLength"] as? Double) == 1 { out.append(("", "must not be empty")) }
        switch type {
        case "string": out.append((12345, "must be a string"))
        case "integer": out.append((1.5, "must be an integer"))
        case "number": out.append(("ten", "must be a number"))
        case "boolean": out.append(("yes", "must be a boolean"))
        case "array": out.append(("x", "must be an array"))
        default: break
        }
        return out
    }

    /// The keywords a schema uses, at every level (property names are not keywords).
    static func keywords(_ schema: [String: Any]) -> Set<String> {
        var found = Set(schema.keys)
        for property in (schema["properties"] as? [String: [String: Any]] ?? [:]).values { found.formUnion(keywords(property)) }
        if let items = schema["items"] as? [String: Any] { found.formUnion(keywords(items)) }
        return found
    }

    @Test("every limit, enumeration, type and argument the tools advertise is enforced, refused as invalid_argument and recorded")
    func advertisedSchemasAreEnforced() async throws {
        let (server, admin, agent) = try await MCPSurfaceTests.setUp()
        let http = ["url": server.base + "/v1/mcp?project=city&onBehalfOf=user:ana", "token": agent]
        let listed = try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/mcp_session.py",
            ["http": http, "calls": [] as [Any]]
        )
        let tools = listed["tools"] as? [[String: Any]] ?? []
        #expect(tools.count == 8)
        // Each schema uses only keywords the engine enforces: nothing advertised goes unchecked.
        for tool in tools {
            let unknown = Self.keywords(tool["inputSchema"] as? [String: Any] ?? [:]).subtracting(Primitive.schemaKeywords)
            #expect(unknown.isEmpty, "\(tool["name"] ?? "") advertises \(unknown.sorted()), which the engine does not check")
        }
        var calls: [[String: Any]] = []
        var expected: [(tool: String, argument: String, says: String)] = []
        for tool in tools {
            let name = tool["name"] as? String ?? ""
            let schema = tool["inputSchema"] as? [String: Any] ?? [:]
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            let required = schema["required"] as? [String] ?? []
            var base: [String: Any] = [:]
            for key in required { base[key] = Self.valid(properties[key] ?? [:]) }
            // An argument the tool does not have, and each required one left out.
            calls.append(["tool": name, "arguments": base.merging(["bogus": 1]) { $1 }])
            expected.append((name, "bogus", "is not an argument of this tool"))
            for key in required {
                calls.append(["tool": name, "arguments": base.filter { $0.key != key }])
                expected.append((name, key, "is required"))
            }
            for (key, property) in properties.sorted(by: { $0.key < $1.key }) {
                for (bad, says) in Self.violations(property) {
                    calls.append(["tool": name, "arguments": base.merging([key: bad]) { $1 }])
                    expected.append((name, key, says))
                }
                // Inside arrays too (Run's points are pairs of numbers).
                if let items = property["items"] as? [String: Any], items["type"] as? String == "array" {
                    if let minimum = items["minItems"] as? Double {
                        calls.append([
                            "tool": name, "arguments": base.merging([key: [Array(repeating: 1.0, count: Int(minimum) - 1)]]) { $1 },
                        ])
                        expected.append((name, key, "at least"))
                    }
                }
            }
        }
        // The schemas carry bounds worth checking: Read's page, Solve's time limit, Grep's modes.
        #expect(expected.contains { $0.tool == "Solve" && $0.argument == "timeLimit" && $0.says == "at most" })
        #expect(expected.contains { $0.tool == "Read" && $0.argument == "limit" && $0.says == "at most" })
        #expect(expected.contains { $0.tool == "Grep" && $0.argument == "mode" && $0.says == "one of" })
        #expect(calls.count > 60, "\(calls.count) calls")

        let mainBefore = try await server.request("GET", "/v1/orgs/default/projects/city/commits?limit=1", token: admin).text
        let answer = try await PythonReference.run("Tests/CairnCLITests/Support/python/mcp_session.py", ["http": http, "calls": calls])
        let results = answer["results"] as? [[String: Any]] ?? []
        #expect(results.count == calls.count)
        for (i, result) in results.enumerated() where i < expected.count {
            let text = result["text"] as? String ?? ""
            let e = expected[i]
            #expect(
                result["isError"] as? Bool == true && text.contains("invalid_argument") && text.contains("'\(e.argument)")
                    && text.contains(e.says),
                "\(e.tool) \(calls[i]["arguments"] ?? "") should be refused (\(e.says)): \(text)"
            )
        }
        // Each refusal is in the run's record, and nothing was committed anywhere.
        let run = try await MCPSurfaceTests.endedRun(server, admin: admin, project: "city")
        let recorded = run["calls"] as? [[String: Any]] ?? []
        #expect(recorded.count == calls.count)
        #expect(
            recorded.allSatisfy {
                ($0["error"] as? String ?? "").hasPrefix("invalid_argument") && ($0["commits"] as? [Any])?.isEmpty == true
            }
        )
        #expect(try await server.request("GET", "/v1/orgs/default/projects/city/commits?limit=1", token: admin).text == mainBefore)
    }

    @Test(
        "a Solve time limit over the 600 s the tool advertises is refused over MCP, though the HTTP API allows up to a day; maxDuration is taken as over HTTP"
    )
    func solveTimeLimitAsAdvertised() async throws {
        let (server, _, agent) = try await MCPSurfaceTests.setUp()
        let solve: [String: Any] = ["kind": "facility_location", "depots": "fiber/cabinets/*.json", "stops": "fiber/cabinets/2.json"]
        let answer = try await PythonReference.run(
            "Tests/CairnCLITests/Support/python/mcp_session.py",
            [
                "http": ["url": server.base + "/v1/mcp?project=city&onBehalfOf=user:ana", "token": agent],
                "calls": [
                    ["tool": "Solve", "arguments": solve.merging(["timeLimit": 601]) { $1 }],
                    // A route duration bound, as over HTTP (the tool once lacked it).
                    ["tool": "Solve", "arguments": solve.merging(["timeLimit": 600, "maxDuration": 3600]) { $1 }],
                ],
            ]
        )
        let results = answer["results"] as? [[String: Any]] ?? []
        #expect(
            results.first?["isError"] as? Bool == true
                && (results.first?["text"] as? String ?? "").contains("'timeLimit' must be at most 600")
        )
        #expect(results.last?["isError"] as? Bool == false && (results.last?["text"] as? String ?? "").contains("optimal"), "\(results)")
    }
}
