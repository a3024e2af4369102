import CairnCore
import CairnStore

/// One entity file as the validator reads it. A GeoJSON Feature keeps its properties in
/// `properties` and its shape in `geometry`; any other JSON object is its own properties.
/// Links are in `links`: `{"feeds": ["path/a.json", …]}` (a single path may stand for a list).
public struct Entity: Sendable {
    public let path: String
    public let json: [String: JSONValue]
    public let isFeature: Bool
    public let properties: [String: JSONValue]
    public let geometry: JSONValue?
    public let links: [String: [String]]

    /// The pointer prefix under which properties live in the file.
    public var propertiesPointer: String { isFeature ? "/properties" : "" }

    public init?(path: String, bytes: [UInt8]) {
        guard case .object(let top)? = JSONValue.parse(bytes) else { return nil }
        self.init(path: path, object: top)
    }

    public init(path: String, object top: [String: JSONValue]) {
        self.path = path
        json = top
        isFeature = top["type"] == .string("Feature")
        if isFeature {
            if case .object(let p)? = top["properties"] { properties = p } else { properties = [:] }
            geometry = top["geometry"].flatMap { $0 == .null ? nil : $0 }
        } else {
            var p = top
            p["links"] = nil
            properties = p
            geometry = nil
        }
        var links: [String: [String]] = [:]
        if case .object(let l)? = top["links"] {
            for (name, value) in l {
                switch value {
                case .string(let s): links[name] = [s]
                case .array(let a): links[name] = a.compactMap { if case .string(let s) = $0 { s } else { nil } }
                default: links[name] = []
                }
            }
        }
        self.links = links
    }

    /// Every path this entity points at: link targets and reference properties (for the backlink index).
    public func targets(referenceProperties: [String]) -> Set<String> {
        var out = Set(links.values.flatMap { $0 })
        for name in referenceProperties {
            switch properties[name] {
            case .string(let s)?: out.insert(s)
            case .array(let a)?: for case .string(let s) in a { out.insert(s) }
            default: break
            }
        }
        return out
    }

    /// The GeoJSON geometry type, if any.
    public var geometryType: String? {
        if case .object(let g)? = geometry, case .string(let t)? = g["type"] { return t }
        return nil
    }

    /// The entity with properties filled in (for defaults), as file bytes.
    func with(properties filled: [String: JSONValue]) -> [UInt8] {
        var top = json
        if isFeature {
            top["properties"] = .object(filled)
        } else {
            for (k, v) in filled { top[k] = v }
        }
        return Array(JSONValue.object(top).text.utf8)
    }
}
