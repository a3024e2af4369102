import CairnCore
import CairnStore

/// What a collection holds at one commit: how many features, their extent, and the properties
/// they carry with a JSON type for each. It is what OGC API – Features clients ask of a
/// collection before reading it (`numberMatched`, `extent`, the schema GDAL and QGIS build their
/// fields from), kept so that no request has to scan the collection for it.
///
/// It can be updated feature by feature (`add`, `remove`); a removal that may shrink the extent
/// (a feature on its edge) cannot be undone locally, and says so, so the owner recounts.
public struct FeatureSummary: Sendable, Equatable {
    public private(set) var count = 0
    /// West, south, east, north in degrees; nil while the collection is empty.
    public private(set) var box: Box?
    /// Each property name with the features that carry it, by JSON type.
    private(set) var fields: [String: FieldCounts] = [:]

    public struct Box: Sendable, Equatable {
        public var west: Double
        public var south: Double
        public var east: Double
        public var north: Double
    }

    /// How many features carry a property as each JSON type (integers split at 32 bits).
    struct FieldCounts: Sendable, Equatable {
        var int32 = 0
        var int64 = 0
        var number = 0
        var string = 0
        var boolean = 0
        var other = 0
        var null = 0
        var total: Int { int32 + int64 + number + string + boolean + other + null }
    }

    public init() {}

    /// Counts a feature in.
    public mutating func add(_ feature: [String: JSONValue]) {
        count += 1
        if let b = Self.box(of: feature["geometry"]) {
            box =
                box.map {
                    Box(
                        west: min($0.west, b.west),
                        south: min($0.south, b.south),
                        east: max($0.east, b.east),
                        north: max($0.north, b.north)
                    )
                } ?? b
        }
        guard case .object(let properties)? = feature["properties"] else { return }
        for (name, value) in properties { Self.tally(&fields[name, default: FieldCounts()], value, +1) }
    }

    /// Counts a feature out; false when the result would not be exact (the feature reached the
    /// extent's edge, so the extent may now be smaller): the caller recounts from the files.
    public mutating func remove(_ feature: [String: JSONValue]) -> Bool {
        count -= 1
        if let b = Self.box(of: feature["geometry"]), let box {
            if b.west <= box.west || b.south <= box.south || b.east >= box.east || b.north >= box.north { return false }
        }
        if count == 0 { box = nil }
        guard case .object(let properties)? = feature["properties"] else { return true }
        for (name, value) in properties {
            guard var counts = fields[name] else { return false }
            Self.tally(&counts, value, -1)
            fields[name] = counts.total > 0 ? counts : nil
        }
        return true
    }

    /// The JSON Schema type of each property: one type when every feature agrees (integers that
    /// need more than 32 bits are written `number`, because GDAL's reader makes a 32-bit field of
    /// an `integer` and would clip them), `string` when they differ.
    public var propertyTypes: [(name: String, type: String)] {
        fields.keys.sorted().map { name in
            let c = fields[name]!
            let t: String
            switch (c.int32 + c.int64 > 0, c.number > 0, c.string > 0, c.boolean > 0, c.other > 0) {
            case (true, false, false, false, false): t = c.int64 > 0 ? "number" : "integer"
            case (_, true, false, false, false): t = "number"
            case (false, false, true, false, false): t = "string"
            case (false, false, false, true, false): t = "boolean"
            case (false, false, false, false, false): t = "null"
            default: t = "string"
            }
            return (name, t)
        }
    }

    private static func tally(_ c: inout FieldCounts, _ value: JSONValue, _ delta: Int) {
        switch value {
        case .int(let v): if Int64(Int32.min)...Int64(Int32.max) ~= v { c.int32 += delta } else { c.int64 += delta }
        case .double: c.number += delta
        case .string: c.string += delta
        case .bool: c.boolean += delta
        case .null: c.null += delta
        case .array, .object: c.other += delta
        }
    }

    static func box(of geometry: JSONValue?) -> Box? {
        var found: Box?
        geometry?.forEachPosition { lon, lat in
            if let f = found {
                found = Box(west: min(f.west, lon), south: min(f.south, lat), east: max(f.east, lon), north: max(f.north, lat))
            } else {
                found = Box(west: lon, south: lat, east: lon, north: lat)
            }
            return true
        }
        return found
    }
}
