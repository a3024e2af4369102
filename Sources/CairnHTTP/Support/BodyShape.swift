import CairnStore
import Foundation

/// Which fields a request body may carry, read from its JSON Schema. Only field names are
/// checked here; types and values are the job of `Decodable` and the Gateway.
indirect enum BodyShape: Sendable {
    /// Any value; a scalar alternative in a union.
    case scalar
    /// An object; `closed` when the schema says `additionalProperties: false`; `tags` are its
    /// `const` fields, which pick the alternative of a union (`{"kind": "path", ...}`).
    case object([String: BodyShape], closed: Bool, tags: [String: String])
    case array(BodyShape)
    /// `anyOf` / `oneOf`: acceptable when one alternative accepts it.
    case union([BodyShape])

    init(schema: Any, components: [String: Any], depth: Int = 0) {
        guard depth < 32, let s = schema as? [String: Any] else {
            self = .scalar
            return
        }
        let next = { (x: Any) in BodyShape(schema: x, components: components, depth: depth + 1) }
        if let ref = s["$ref"] as? String, let name = ref.split(separator: "/").last, let target = components[String(name)] {
            self = next(target)
        } else if let alternatives = (s["anyOf"] ?? s["oneOf"]) as? [Any] {
            self = .union(alternatives.map(next))
        } else if s["type"] as? String == "array" {
            self = .array(s["items"].map(next) ?? .scalar)
        } else if s["type"] as? String == "object", let properties = s["properties"] as? [String: Any] {
            let tags = properties.compactMapValues { ($0 as? [String: Any])?["const"] as? String }
            self = .object(properties.mapValues(next), closed: s["additionalProperties"] as? Bool == false, tags: tags)
        } else {
            self = .scalar
        }
    }

    /// The dotted path of the first field `value` has that the shape does not declare, or nil.
    func unknownField(in value: JSONValue, at path: String = "") -> String? {
        switch self {
        case .scalar:
            return nil
        case .object(let fields, let closed, _):
            guard case .object(let dict) = value else { return nil }
            for key in dict.keys.sorted() {
                let here = path.isEmpty ? key : "\(path).\(key)"
                if let field = fields[key] {
                    if let inner = field.unknownField(in: dict[key]!, at: here) { return inner }
                } else if closed {
                    return here
                }
            }
            return nil
        case .array(let item):
            guard case .array(let list) = value else { return nil }
            for (i, element) in list.enumerated() {
                if let inner = item.unknownField(in: element, at: "\(path)[\(i)]") { return inner }
            }
            return nil
        case .union(let alternatives):
            let fitting = alternatives.filter { $0.fits(value) }
            if fitting.isEmpty { return nil }
            var first: String?
            for alternative in fitting {
                guard let unknown = alternative.unknownField(in: value, at: path) else { return nil }
                first = first ?? unknown
            }
            return first
        }
    }

    /// Whether the value is of the kind (object, array, scalar) this alternative describes.
    private func fits(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.object(_, _, let tags), .object(let dict)):
            return tags.allSatisfy { dict[$0.key] == .string($0.value) }
        case (.object, _): return false
        case (.array, .array): return true
        case (.array, _): return false
        case (.scalar, .object), (.scalar, .array): return false
        case (.scalar, _): return true
        case (.union(let alternatives), _): return alternatives.contains { $0.fits(value) }
        }
    }
}
