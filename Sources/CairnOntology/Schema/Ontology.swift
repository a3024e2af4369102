import CairnCore
import CairnStore

/// What a project's world is made of: entity types, the links between them, and the rules that
/// bind them. One JSON document per project at `.cairn/ontology.json`, versioned like any file
/// and changed only with `configure`; every write is validated against the ontology of the
/// tree it produces.
public struct Ontology: Sendable, Codable, Equatable {
    public static let path = ".cairn/ontology.json"

    public var entityTypes: [EntityType]
    public var linkTypes: [LinkType]
    public var constraints: [Constraint]
    /// Coordinate systems the project's features are also served in (`EPSG:3067`, ...): stored
    /// geometries are always longitude, latitude; GIS clients may ask for these instead.
    public var crs: [String]?

    public init(entityTypes: [EntityType], linkTypes: [LinkType] = [], constraints: [Constraint] = [], crs: [String]? = nil) {
        self.entityTypes = entityTypes
        self.linkTypes = linkTypes
        self.constraints = constraints
        self.crs = crs
    }

    private enum CodingKeys: String, CodingKey { case entityTypes, linkTypes, constraints, crs }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        entityTypes = try c.decode([EntityType].self, forKey: .entityTypes)
        linkTypes = try c.decodeIfPresent([LinkType].self, forKey: .linkTypes) ?? []
        constraints = try c.decodeIfPresent([Constraint].self, forKey: .constraints) ?? []
        crs = try c.decodeIfPresent([String].self, forKey: .crs)
    }
}

/// A kind of entity: which files it governs, its geometry, and its typed properties.
public struct EntityType: Sendable, Codable, Equatable {
    public var id: String
    public var label: String?
    /// A rank for display and for hierarchies (lower is nearer the root).
    public var tier: Int?
    /// The files that are entities of this type. The first type (in order) that matches a file
    /// governs it; a file no type matches is not an entity and is not validated.
    public var match: FileMatch
    /// The GeoJSON geometry type its files must carry; `none` for entities without geometry.
    public var geometry: GeometryKind?
    public var properties: [PropertySpec]
    /// Whether properties the type does not declare are allowed (default true: an open world).
    public var additionalProperties: Bool?
}

/// Which files an entity type governs: a path glob, a discriminating property, or both.
public struct FileMatch: Sendable, Codable, Equatable {
    public var glob: String?
    public var property: String?
    public var equals: JSONValue?
}

/// The geometry an entity type's files must carry.
public enum GeometryKind: String, Sendable, Codable, CaseIterable {
    case point = "Point"
    case lineString = "LineString"
    case polygon = "Polygon"
    case multiPoint = "MultiPoint"
    case multiLineString = "MultiLineString"
    case multiPolygon = "MultiPolygon"
    case none
}

/// The type a property's values must have.
public enum ValueType: String, Sendable, Codable, CaseIterable {
    case string, number, integer, boolean, `enum`, datetime, reference, list
}

/// One property of an entity type. Which fields apply depends on `type`.
public final class PropertySpec: Sendable, Codable, Equatable {
    public let name: String
    public let type: ValueType
    public let required: Bool?
    public let `default`: JSONValue?
    /// string: a PCRE2 pattern (anchor it to match the whole value) and length bounds.
    public let pattern: String?
    public let minLength: Int?
    public let maxLength: Int?
    /// number, integer: bounds and the unit the value is in (documentation for people and agents).
    public let minimum: Double?
    public let maximum: Double?
    public let unit: String?
    /// enum: the allowed values.
    public let values: [JSONValue]?
    /// reference: the entity type the path must name.
    public let to: String?
    /// list: the type of each item, and how many there may be.
    public let items: PropertySpec?
    public let minItems: Int?
    public let maxItems: Int?

    public static func == (a: PropertySpec, b: PropertySpec) -> Bool {
        a.name == b.name && a.type == b.type && a.required == b.required && a.default == b.default && a.pattern == b.pattern
            && a.minLength == b.minLength && a.maxLength == b.maxLength && a.minimum == b.minimum && a.maximum == b.maximum
            && a.unit == b.unit
            && a.values == b.values && a.to == b.to && a.items == b.items && a.minItems == b.minItems && a.maxItems == b.maxItems
    }

    public var isRequired: Bool { required ?? false }

    public init(
        name: String,
        type: ValueType,
        required: Bool? = nil,
        default value: JSONValue? = nil,
        pattern: String? = nil,
        minLength: Int? = nil,
        maxLength: Int? = nil,
        minimum: Double? = nil,
        maximum: Double? = nil,
        unit: String? = nil,
        values: [JSONValue]? = nil,
        to: String? = nil,
        items: PropertySpec? = nil,
        minItems: Int? = nil,
        maxItems: Int? = nil
    ) {
        self.name = name
        self.type = type
        self.required = required
        self.default = value
        self.pattern = pattern
        self.minLength = minLength
        self.maxLength = maxLength
        self.minimum = minimum
        self.maximum = maximum
        self.unit = unit
        self.values = values
        self.to = to
        self.items = items
        self.minItems = minItems
        self.maxItems = maxItems
    }

    private enum CodingKeys: String, CodingKey {
        case name, type, required, `default`, pattern, minLength, maxLength, minimum, maximum, unit, values, to, items, minItems, maxItems
    }

    public required init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        type = try c.decode(ValueType.self, forKey: .type)
        required = try c.decodeIfPresent(Bool.self, forKey: .required)
        `default` = try c.decodeIfPresent(JSONValue.self, forKey: .default)
        pattern = try c.decodeIfPresent(String.self, forKey: .pattern)
        minLength = try c.decodeIfPresent(Int.self, forKey: .minLength)
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength)
        minimum = try c.decodeIfPresent(Double.self, forKey: .minimum)
        maximum = try c.decodeIfPresent(Double.self, forKey: .maximum)
        unit = try c.decodeIfPresent(String.self, forKey: .unit)
        values = try c.decodeIfPresent([JSONValue].self, forKey: .values)
        to = try c.decodeIfPresent(String.self, forKey: .to)
        items = try c.decodeIfPresent(PropertySpec.self, forKey: .items)
        minItems = try c.decodeIfPresent(Int.self, forKey: .minItems)
        maxItems = try c.decodeIfPresent(Int.self, forKey: .maxItems)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if !name.isEmpty { try c.encode(name, forKey: .name) }
        try c.encode(type, forKey: .type)
        try c.encodeIfPresent(required, forKey: .required)
        try c.encodeIfPresent(`default`, forKey: .default)
        try c.encodeIfPresent(pattern, forKey: .pattern)
        try c.encodeIfPresent(minLength, forKey: .minLength)
        try c.encodeIfPresent(maxLength, forKey: .maxLength)
        try c.encodeIfPresent(minimum, forKey: .minimum)
        try c.encodeIfPresent(maximum, forKey: .maximum)
        try c.encodeIfPresent(unit, forKey: .unit)
        try c.encodeIfPresent(values, forKey: .values)
        try c.encodeIfPresent(to, forKey: .to)
        try c.encodeIfPresent(items, forKey: .items)
        try c.encodeIfPresent(minItems, forKey: .minItems)
        try c.encodeIfPresent(maxItems, forKey: .maxItems)
    }
}

/// A kind of link: from one entity type to another (`*`: any entity type), with how many each
/// `from` entity may have.
/// Links live in the entity file: `"links": {"feeds": ["path/of/target.json", …]}`.
public struct LinkType: Sendable, Codable, Equatable {
    public var name: String
    public var from: String
    public var to: String
    public var min: Int?
    public var max: Int?
}

/// A named rule with the message a violation carries. `kind` selects which fields apply:
///
/// | kind | fields | rule |
/// |---|---|---|
/// | `range` | property, minimum, maximum | the number lies in the range |
/// | `enum` | property, values | the value is one of them |
/// | `pattern` | property, pattern | the string matches |
/// | `near` | target, distance | the nearest entity of type `target` is at most `distance` metres away |
/// | `inside` | target | the geometry lies inside a polygon of type `target` |
/// | `hierarchy` | link, order | every `link` goes from `order[i]` to `order[i+1]` |
/// | `acyclic` | link | following `link` never leads back |
/// | `maxDepth` | link, depth | at most `depth` entities link down to this one through `link` |
/// | `count` | link, limit or limitProperty | the number of `link` targets is at most the limit |
/// | `sum` | link, sumProperty, limit or limitProperty | the sum of `sumProperty` over the targets is at most the limit |
/// | `expression` | expression | the expression (see `Expression`) is true |
///
/// `type` is the entity type the rule applies to (required except for `hierarchy`).
public struct Constraint: Sendable, Codable, Equatable {
    /// The rules an ontology can state (the table above).
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case range, `enum`, pattern, near, inside, hierarchy, acyclic, maxDepth, count, sum, expression
    }

    public var name: String
    public var message: String
    public var kind: Kind
    public var type: String?
    public var property: String?
    public var minimum: Double?
    public var maximum: Double?
    public var values: [JSONValue]?
    public var pattern: String?
    public var target: String?
    public var distance: Double?
    public var link: String?
    public var order: [String]?
    public var depth: Int?
    public var limit: Double?
    public var limitProperty: String?
    public var sumProperty: String?
    public var expression: String?
}
