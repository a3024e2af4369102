import CairnCore
import CairnStore
import Foundation

/// Checks a call's arguments against the JSON Schema its primitive advertises, so what an agent
/// is shown (a type, a bound, an enumeration, a field that does not exist) is what is enforced.
///
/// Written here because the package mirror has no JSON Schema validator for Swift, and the
/// schemas of the eight primitives use a small, fixed subset of it: `type`, `properties`,
/// `required`, `additionalProperties: false`, `enum`, `minimum`, `maximum`, `exclusiveMinimum`,
/// `minLength`, `maxLength`, `pattern`, `not`, `oneOf`, `items`, `minItems` and `maxItems`. A
/// keyword outside that subset in a schema is a programming error, caught by the tests that check
/// every advertised schema.
enum ArgumentSchema {
    /// The keywords this checker understands; the descriptive ones carry no rule.
    static let keywords: Set<String> = [
        "type", "properties", "required", "additionalProperties", "enum", "minimum", "maximum", "exclusiveMinimum", "minLength",
        "maxLength",
        "pattern", "not", "oneOf", "items", "minItems", "maxItems", "description",
    ]

    /// Throws `invalid_argument` naming the first argument that does not fit, and why.
    static func check(_ value: JSONValue, against schema: JSONValue, tool: String) throws(CairnError) {
        if let problem = problem(value, schema, at: "") {
            throw CairnError(
                .invalidArgument,
                "\(tool)'s arguments do not fit its schema: \(problem.message)",
                details: ["argument": problem.pointer.isEmpty ? "/" : problem.pointer]
            )
        }
    }

    struct Problem {
        let pointer: String
        let message: String
    }

    static func problem(_ value: JSONValue, _ schema: JSONValue, at pointer: String) -> Problem? {
        guard case .object(let rules) = schema else { return nil }
        let name = pointer.isEmpty ? "the arguments" : "'\(pointer.dropFirst())'"
        func fail(_ why: String) -> Problem { Problem(pointer: pointer, message: "\(name) \(why)") }
        if case .string(let type)? = rules["type"], !matches(value, type) {
            return fail("must be \(article(type)) \(type)")
        }
        if case .array(let allowed)? = rules["enum"], !allowed.contains(value) {
            return fail("must be one of \(allowed.compactMap(text).joined(separator: ", "))")
        }
        if let number = value.number {
            if let minimum = rules["minimum"]?.number, number < minimum { return fail("must be at least \(show(minimum))") }
            if let maximum = rules["maximum"]?.number, number > maximum { return fail("must be at most \(show(maximum))") }
            if let bound = rules["exclusiveMinimum"]?.number, number <= bound {
                return fail("must be more than \(show(bound))")
            }
        }
        if case .string(let s) = value {
            if let minimum = rules["minLength"]?.number, Double(s.count) < minimum {
                return fail(minimum == 1 ? "must not be empty" : "must have at least \(show(minimum)) characters")
            }
            if let maximum = rules["maxLength"]?.number, Double(s.count) > maximum {
                return fail("must have at most \(show(maximum)) characters")
            }
            if case .string(let pattern)? = rules["pattern"], !Self.matches(s, pattern: pattern) {
                return fail("is not of the form \(Self.form(rules, pattern))")
            }
        }
        if let excluded = rules["not"], problem(value, excluded, at: pointer) == nil {
            return fail("is not of the form \(Self.form(rules, nil))")
        }
        if case .array(let alternatives)? = rules["oneOf"] {
            let fitting = alternatives.filter { problem(value, $0, at: pointer) == nil }.count
            if fitting != 1 {
                let kinds = alternatives.compactMap { alternative -> String? in
                    guard case .object(let o) = alternative, case .string(let type)? = o["type"] else { return nil }
                    return type
                }
                return fail("must be exactly one of: \(kinds.isEmpty ? "the schema's alternatives" : kinds.joined(separator: ", "))")
            }
        }
        if case .array(let items) = value {
            if let minimum = rules["minItems"]?.number, Double(items.count) < minimum {
                return fail("must have at least \(show(minimum)) item(s)")
            }
            if let maximum = rules["maxItems"]?.number, Double(items.count) > maximum {
                return fail("must have at most \(show(maximum)) item(s)")
            }
            if let itemSchema = rules["items"] {
                for (i, item) in items.enumerated() {
                    if let problem = problem(item, itemSchema, at: "\(pointer)/\(i)") { return problem }
                }
            }
        }
        if case .object(let fields) = value {
            let properties: [String: JSONValue]
            if case .object(let p)? = rules["properties"] { properties = p } else { properties = [:] }
            if case .array(let required)? = rules["required"] {
                for case .string(let key) in required where fields[key] == nil {
                    return Problem(pointer: "\(pointer)/\(key)", message: "'\((pointer + "/" + key).dropFirst())' is required")
                }
            }
            if case .bool(false)? = rules["additionalProperties"] {
                if let unknown = fields.keys.sorted().first(where: { properties[$0] == nil }) {
                    return Problem(
                        pointer: "\(pointer)/\(unknown)",
                        message:
                            "'\((pointer + "/" + unknown).dropFirst())' is not an argument of this tool; it takes "
                            + "\(properties.keys.sorted().joined(separator: ", "))"
                    )
                }
            }
            for key in fields.keys.sorted() {
                guard let field = fields[key], let fieldSchema = properties[key] else { continue }
                if let problem = problem(field, fieldSchema, at: "\(pointer)/\(key)") { return problem }
            }
        }
        return nil
    }

    /// Whether `text` matches a schema's pattern (ECMA 262 as JSON Schema says; the patterns of
    /// the primitives use only what ICU reads the same way).
    static func matches(_ text: String, pattern: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// How to tell an agent what form a string must have: the schema's description if it has one.
    static func form(_ rules: [String: JSONValue], _ pattern: String?) -> String {
        if case .string(let description)? = rules["description"] { return "'\(description)'" }
        return pattern.map { "/\($0)/" } ?? "the schema asks"
    }

    static func matches(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null): true
        case ("number", .int), ("number", .double): true
        case ("integer", .int): true
        case ("integer", .double(let d)): d.rounded() == d && d.isFinite
        default: false
        }
    }

    static func text(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d): show(d)
        case .bool(let b): String(b)
        default: nil
        }
    }

    static func show(_ d: Double) -> String { d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d) }

    static func article(_ type: String) -> String { type == "integer" || type == "object" || type == "array" ? "an" : "a" }
}
