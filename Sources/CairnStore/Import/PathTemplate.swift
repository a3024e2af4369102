import CairnCore

/// Makes a file path for each GeoJSON feature from a template such as
/// `osm/{@type}/{@id}-{geometry.type}.json`.
///
/// `{name}` is the feature property `name` (keys may contain dots or colons); failing that, a
/// dotted path into the feature (`{geometry.type}`, `{id}`); `{#}` is the feature's 1-based
/// position. A `/` inside a value becomes `_`, so values never add folders.
public struct PathTemplate: Sendable {
    enum Part: Sendable {
        case literal(String)
        case field(String)
        case index
    }

    let parts: [Part]
    public let text: String

    public init(_ text: String) throws(CairnError) {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            literal += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw CairnError(.invalidArgument, "path template '\(text)': '{' is never closed")
            }
            let name = String(rest[rest.index(after: open)..<close])
            guard !name.isEmpty else { throw CairnError(.invalidArgument, "path template '\(text)': empty '{}'") }
            if !literal.isEmpty {
                parts.append(.literal(literal))
                literal = ""
            }
            parts.append(name == "#" ? .index : .field(name))
            rest = rest[rest.index(after: close)...]
        }
        if rest.contains("}") { throw CairnError(.invalidArgument, "path template '\(text)': '}' without '{'") }
        literal += rest
        if !literal.isEmpty { parts.append(.literal(literal)) }
        guard parts.contains(where: { if case .literal = $0 { false } else { true } }) else {
            throw CairnError(.invalidArgument, "path template '\(text)' has no {field}: every feature would get the same path")
        }
        self.parts = parts
        self.text = text
    }

    /// The path for `feature` (the `index`-th, 0-based).
    public func render(_ feature: [String: JSONValue], index: Int) throws(CairnError) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .literal(let s): out += s
            case .index: out += String(index + 1)
            case .field(let name):
                guard let value = Self.lookup(name, in: feature), let text = Self.pathText(value) else {
                    throw CairnError(
                        .invalidArgument,
                        "feature \(index + 1) has no usable value for {\(name)} in the path template",
                        details: ["feature": String(index + 1), "field": name]
                    )
                }
                var clean = text.replacingOccurrences(of: "/", with: "_")
                if clean == "." || clean == ".." || clean.isEmpty { clean = "_" }
                out += clean
            }
        }
        return out
    }

    static func lookup(_ name: String, in feature: [String: JSONValue]) -> JSONValue? {
        if case .object(let props)? = feature["properties"], let v = props[name] { return v }
        var current: JSONValue = .object(feature)
        for key in name.split(separator: ".") {
            guard case .object(let o) = current, let next = o[String(key)] else { return nil }
            current = next
        }
        return current
    }

    /// A scalar as it appears in a path; nil for null, arrays and objects.
    public static func pathText(_ v: JSONValue) -> String? {
        switch v {
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b): String(b)
        default: nil
        }
    }
}
