import Foundation

/// One road of a network: an OSM-style way with its tags (`highway`, `oneway`, `maxspeed`).
public struct Road: Sendable {
    public let id: String
    public let coordinates: [Coordinate]
    public let tags: [String: String]

    public init(id: String, coordinates: [Coordinate], tags: [String: String]) {
        self.id = id
        self.coordinates = coordinates
        self.tags = tags
    }

    /// A road from a GeoJSON Feature with a LineString geometry (nil for any other feature).
    /// Its id is the OSM `@id` property when there is one, else `fallbackID`; every property
    /// becomes a tag, as text.
    public init?(feature: Any, fallbackID: String) {
        guard let f = feature as? [String: Any], let g = f["geometry"] as? [String: Any], g["type"] as? String == "LineString",
            let cs = g["coordinates"] as? [[Double]]
        else { return nil }
        let props = f["properties"] as? [String: Any] ?? [:]
        self.init(
            id: props["@id"].map { "\($0)" } ?? fallbackID,
            coordinates: cs.compactMap { $0.count >= 2 ? Coordinate(lon: $0[0], lat: $0[1]) : nil },
            tags: props.mapValues { "\($0)" }
        )
    }

    /// The roads of a GeoJSON FeatureCollection.
    public static func featureCollection(_ data: Data) throws -> [Road] {
        let doc = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return (doc["features"] as? [Any] ?? []).enumerated().compactMap { Road(feature: $0.element, fallbackID: "feature-\($0.offset)") }
    }

    /// `1` one way along the line, `-1` one way against it, `0` both ways (OSM's `oneway`).
    /// Roundabouts and motorways are one way unless tagged otherwise.
    public var direction: Int {
        switch tags["oneway"] {
        case "yes", "true", "1": return 1
        case "-1", "reverse": return -1
        case "no", "false", "0": return 0
        default: return tags["junction"] == "roundabout" || tags["highway"] == "motorway" ? 1 : 0
        }
    }

    /// Speed in km/h: `maxspeed` when it is a number (or "N mph"), else the class default.
    public var speedKmh: Double {
        if let raw = tags["maxspeed"] {
            let parts = raw.split(separator: " ")
            if let n = parts.first.flatMap({ Double($0) }), n > 0 { return parts.count > 1 && parts[1] == "mph" ? n * 1.609344 : n }
        }
        return Self.defaultSpeeds[tags["highway"] ?? ""] ?? 30
    }

    /// Default speeds per `highway` class (km/h), documented in the README: urban Finnish
    /// limits for the main classes, walking pace for paths.
    public static let defaultSpeeds: [String: Double] = [
        "motorway": 100, "motorway_link": 60, "trunk": 80, "trunk_link": 50, "primary": 50, "primary_link": 40,
        "secondary": 50, "secondary_link": 40, "tertiary": 40, "tertiary_link": 30, "unclassified": 30, "residential": 30,
        "living_street": 20, "service": 20, "road": 30, "track": 20,
        "pedestrian": 5, "footway": 5, "path": 5, "steps": 3, "cycleway": 15, "bridleway": 5, "corridor": 5,
    ]

    /// Classes a motor vehicle may use.
    public static let drivable: Set<String> = [
        "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link", "tertiary",
        "tertiary_link", "unclassified", "residential", "living_street", "service", "road",
    ]
}
