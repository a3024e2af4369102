import CairnEngine
import CairnStore
import Foundation
import HTTPTypes
import Testing

/// The API's document and the server's code agree: every field the served document declares for
/// a request body is one the server reads. A body holding every declared field (at every depth,
/// the fullest alternative of each union) is sent to every operation that takes one; none may be
/// refused as unknown, as malformed, or as a field the code does not read (`contract_mismatch`).
/// The bodies are made from the document the server serves, so a field added to the description
/// is checked here without touching this file.
@Suite("the API document and the code, in process")
struct ContractTests {
    /// A value of the schema's JSON type (validity beyond the type is not the point: a body is
    /// read, field by field, before any rule is applied to its values).
    static func example(_ schema: Any?, _ components: [String: Any], depth: Int = 0) -> Any {
        guard depth < 16, let s = schema as? [String: Any] else { return "x1" }
        let next = { (x: Any?) in example(x, components, depth: depth + 1) }
        if let ref = s["$ref"] as? String, let name = ref.split(separator: "/").last { return next(components[String(name)]) }
        if let alternatives = (s["anyOf"] ?? s["oneOf"]) as? [[String: Any]] {
            func size(_ a: [String: Any]) -> Int {
                if let ref = a["$ref"] as? String, let name = ref.split(separator: "/").last {
                    return size(components[String(name)] as? [String: Any] ?? [:])
                }
                return (a["properties"] as? [String: Any])?.count ?? 0
            }
            let candidates = alternatives.filter { $0["type"] as? String != "null" }
            return next(candidates.max { size($0) < size($1) } ?? alternatives.first)
        }
        if let constant = s["const"] { return constant }
        if let choices = s["enum"] as? [Any], let first = choices.first { return first }
        switch s["type"] as? String {
        case "object":
            let properties = s["properties"] as? [String: Any] ?? [:]
            return properties.mapValues(next)
        case "array":
            let count = max(1, s["minItems"] as? Int ?? 1)
            return (0..<count).map { _ in next(s["items"]) }
        case "integer": return max(s["minimum"] as? Int ?? 1, 1)
        case "number": return max(s["minimum"] as? Double ?? 1, 1)
        case "boolean": return false
        default:
            if s["format"] as? String == "date-time" { return "2026-01-01T00:00:00Z" }
            if (s["pattern"] as? String)?.contains("0-9a-f]{64}") == true { return String(repeating: "0", count: 64) }
            return "x1"
        }
    }

    /// A value for each path parameter, of the form its pattern asks.
    static let parameters: [String: String] = [
        "org": "default", "project": "p", "path": "fiber/a.json", "number": "1", "subject": "user:x", "id": "0123456789abcdef",
        "name": "r1", "branch": "b1",
    ]

    @Test("every operation accepts a body holding every field its document declares, and reads each one")
    func everyDeclaredFieldIsRead() async throws {
        let server = try await InProcessServer()
        let admin = server.admin
        try await server.run(project: "p") { send in
            let served = try await send(.get, "/v1/openapi.json")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(served.text.utf8)) as? [String: Any])
            let components = (document["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
            let paths = document["paths"] as? [String: [String: Any]] ?? [:]
            var checked = 0
            var problems: [String] = []
            for (template, item) in paths.sorted(by: { $0.key < $1.key }) {
                for (method, operation) in item.sorted(by: { $0.key < $1.key }) {
                    guard let operation = operation as? [String: Any],
                        let content = (operation["requestBody"] as? [String: Any])?["content"] as? [String: Any],
                        let schema = (content["application/json"] as? [String: Any])?["schema"]
                    else { continue }
                    var uri = template
                    for (name, value) in Self.parameters { uri = uri.replacingOccurrences(of: "{\(name)}", with: value) }
                    let body = Self.example(schema, components)
                    let text = String(
                        decoding: try JSONSerialization.data(withJSONObject: body, options: [.fragmentsAllowed]),
                        as: UTF8.self
                    )
                    let answer = try await send(HTTPRequest.Method(method.uppercased())!, uri, text, token: admin)
                    checked += 1
                    let refusedBody = ["does not know", "has the wrong type", "lacks the field", "request body is not valid"]
                    if answer.errorCode == "contract_mismatch" || answer.status >= 500
                        || (answer.status == 400 && refusedBody.contains { answer.text.contains($0) })
                    {
                        problems.append(
                            "\(method.uppercased()) \(template) \(text.prefix(300)): \(answer.status) \(answer.text.prefix(300))"
                        )
                    }
                }
            }
            #expect(checked >= 25, "\(checked) operations take a body")
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        }
    }

    @Test("the Run and Solve tools an agent is shown take the fields of the HTTP bodies, with the same rules, from the one description")
    func toolsShareTheHTTPFields() async throws {
        let server = try await InProcessServer()
        try await server.run { send in
            let served = try await send(.get, "/v1/openapi.json")
            let document = try #require(JSONValue.parse(Array(served.text.utf8)))
            for (tool, path, httpOnly) in [
                ("Run", "/v1/orgs/{org}/projects/{project}/run", ["ref", "message"]),
                ("Solve", "/v1/orgs/{org}/projects/{project}/solve", ["ref", "message", "id"]),
            ] {
                guard
                    case .object(let http)? = Self.at(
                        document,
                        ["paths", path, "post", "requestBody", "content", "application/json", "schema", "properties"]
                    ),
                    case .object(let agent)? = Self.at(try #require(Primitive.named(tool)).schema, ["properties"])
                else {
                    Issue.record("\(tool): no properties")
                    continue
                }
                #expect(Set(http.keys).subtracting(httpOnly) == Set(agent.keys).subtracting(["reason"]), "\(tool)")
                for (name, rule) in agent where name != "reason" {
                    // HTTP fields may also be null (read as absent); the rule is the alternative that is not.
                    var expected = http[name]
                    if case .object(let o)? = expected, case .array(let alternatives)? = o["anyOf"] {
                        expected = alternatives.first { $0 != .object(["type": .string("null")]) }
                    }
                    if tool == "Solve" && name == "timeLimit" {
                        // An agent's solve is held to ten minutes; a person's may take a day.
                        #expect(Self.at(rule, ["maximum"]) == .int(600) && Self.at(expected ?? .null, ["maximum"]) == .int(86400))
                        continue
                    }
                    #expect(rule == expected, "\(tool).\(name): the tool has \(rule.text), HTTP \(expected?.text ?? "nothing")")
                }
            }
        }
    }

    static func at(_ value: JSONValue, _ keys: [String]) -> JSONValue? {
        var here = value
        for key in keys {
            guard case .object(let o) = here, let next = o[key] else { return nil }
            here = next
        }
        return here
    }
}
