/// One place where the two sides of a merge changed the same value differently, or one changed
/// it and the other deleted it. `nil` means absent on that side.
public struct MergeConflict: Sendable, Codable, Equatable {
    /// Where in the file: an RFC 6901 pointer, except that an element of an array of objects
    /// with ids is addressed as `id:<the id as JSON>` (`/pipes/id:"p7"`) rather than by
    /// position, which differs per side.
    public let pointer: String
    public let base: JSONValue?
    public let ours: JSONValue?
    public let theirs: JSONValue?

    public init(pointer: String, base: JSONValue?, ours: JSONValue?, theirs: JSONValue?) {
        self.pointer = pointer
        self.base = base
        self.ours = ours
        self.theirs = theirs
    }
}

/// How one conflict is settled. In JSON (HTTP bodies, `cairn merge --resolve`):
/// `{"use": "ours"}`, `{"use": "theirs"}` or `{"value": V}`, where `null` removes the member.
public enum MergeResolution: Sendable, Codable, Equatable {
    case ours
    case theirs
    /// A new value (nil: the member is removed).
    case value(JSONValue?)

    enum CodingKeys: String, CodingKey { case use, value }

    struct AnyKey: CodingKey {
        let stringValue: String
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let usage = "a resolution is {\"use\": \"ours\"}, {\"use\": \"theirs\"} or {\"value\": …}"
        let keys = Set(try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if keys == ["value"] {
            self = .value(try c.decode(JSONValue?.self, forKey: .value))
        } else if keys == ["use"], let use = try? c.decode(String.self, forKey: .use), use == "ours" || use == "theirs" {
            self = use == "ours" ? .ours : .theirs
        } else {
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: usage))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .ours: try c.encode("ours", forKey: .use)
        case .theirs: try c.encode("theirs", forKey: .use)
        case .value(let v): try c.encode(v, forKey: .value)
        }
    }
}

/// Three-way merge of JSON documents by member (DESIGN.md, issue 4): object members merge
/// independently; arrays whose elements are all objects with distinct `id`s merge by id; any
/// other array, a GeoJSON geometry, and a scalar merge as a whole.
public enum JSONMerge {
    /// A merged value, or the conflicting pointers with each side's value.
    public struct Result: Sendable, Equatable {
        /// The merged document; where a conflict is unresolved it holds our side.
        public let merged: JSONValue?
        /// The conflicts not settled by `resolutions`, in document order.
        public let conflicts: [MergeConflict]
    }

    /// Three-way merge of two JSON documents value by value: changes to different pointers combine;
    /// the same pointer changed two ways is a conflict unless a resolution settles it.
    public static func merge(base: JSONValue?, ours: JSONValue?, theirs: JSONValue?, resolutions: [String: MergeResolution] = [:]) -> Result
    {
        var conflicts: [MergeConflict] = []
        let merged = merge(base, ours, theirs, pointer: "", resolutions: resolutions, conflicts: &conflicts)
        return Result(merged: merged, conflicts: conflicts)
    }

    private static func merge(
        _ b: JSONValue?,
        _ o: JSONValue?,
        _ t: JSONValue?,
        pointer: String,
        resolutions: [String: MergeResolution],
        conflicts: inout [MergeConflict]
    ) -> JSONValue? {
        if o == t { return o }
        if o == b { return t }
        if t == b { return o }
        // Both sides changed it, differently. Descend where the parts can merge on their own.
        switch (b, o, t) {
        case (.object(let bo)?, .object(let oo)?, .object(let to)?) where !isGeometry(o!) && !isGeometry(t!):
            return .object(mergeMembers(bo, oo, to, pointer: pointer, resolutions: resolutions, conflicts: &conflicts))
        case (nil, .object(let oo)?, .object(let to)?) where !isGeometry(o!) && !isGeometry(t!):
            // Added on both sides: members added alike agree, members added differently conflict.
            return .object(mergeMembers([:], oo, to, pointer: pointer, resolutions: resolutions, conflicts: &conflicts))
        case (_, .array(let oa)?, .array(let ta)?):
            let ba: [JSONValue]? =
                switch b {
                case .array(let a)?: a
                case nil: []
                default: nil
                }
            if let ba, let bi = byID(ba), let oi = byID(oa), let ti = byID(ta) {
                return .array(mergeElements(bi, oi, ti, pointer: pointer, resolutions: resolutions, conflicts: &conflicts))
            }
        default:
            break
        }
        switch resolutions[pointer] {
        case .ours?: return o
        case .theirs?: return t
        case .value(let v)?: return v
        case nil:
            conflicts.append(MergeConflict(pointer: pointer, base: b, ours: o, theirs: t))
            return o
        }
    }

    private static func mergeMembers(
        _ b: [String: JSONValue],
        _ o: [String: JSONValue],
        _ t: [String: JSONValue],
        pointer: String,
        resolutions: [String: MergeResolution],
        conflicts: inout [MergeConflict]
    ) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for key in Set(b.keys).union(o.keys).union(t.keys).sorted() {
            let v = merge(
                b[key],
                o[key],
                t[key],
                pointer: pointer + "/" + JSONValue.escape(key),
                resolutions: resolutions,
                conflicts: &conflicts
            )
            if let v { out[key] = v }
        }
        return out
    }

    /// Ours in our order, then elements only they added, in their order.
    private static func mergeElements(
        _ b: IDIndex,
        _ o: IDIndex,
        _ t: IDIndex,
        pointer: String,
        resolutions: [String: MergeResolution],
        conflicts: inout [MergeConflict]
    ) -> [JSONValue] {
        var order = o.order
        for id in t.order where o.values[id] == nil { order.append(id) }
        for id in b.order where o.values[id] == nil && t.values[id] == nil { order.append(id) }
        var out: [JSONValue] = []
        for id in order {
            let segment = o.segments[id] ?? t.segments[id] ?? b.segments[id] ?? id
            let here = pointer + "/id:" + JSONValue.escape(segment)
            if let v = merge(b.values[id], o.values[id], t.values[id], pointer: here, resolutions: resolutions, conflicts: &conflicts) {
                out.append(v)
            }
        }
        return out
    }

    struct IDIndex {
        var order: [String] = []
        var values: [String: JSONValue] = [:]
        /// The pointer segment of each id: its JSON text, so `"7"` and `7` stay apart.
        var segments: [String: String] = [:]
    }

    /// The elements by id, when every element is an object with a distinct string or integer `id`.
    static func byID(_ array: [JSONValue]) -> IDIndex? {
        var index = IDIndex()
        for element in array {
            guard case .object(let members) = element, let id = members["id"] else { return nil }
            let key: String
            switch id {
            case .string(let s): key = "s" + s
            case .int(let i): key = "i" + String(i)
            default: return nil
            }
            guard index.values[key] == nil else { return nil }
            index.order.append(key)
            index.values[key] = element
            index.segments[key] = id.text
        }
        return index
    }

    static let geometryTypes: Set<String> = [
        "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection",
    ]

    /// A GeoJSON geometry is one value: two edits to one shape cannot be combined coordinate by coordinate.
    static func isGeometry(_ v: JSONValue) -> Bool {
        guard case .object(let members) = v, case .string(let type)? = members["type"] else { return false }
        return geometryTypes.contains(type) && (members["coordinates"] != nil || members["geometries"] != nil)
    }
}
