import Foundation

/// A WGS84 position, longitude then latitude, in degrees (GeoJSON order).
public struct Coordinate: Sendable, Hashable, Codable {
    public let lon: Double
    public let lat: Double

    public init(lon: Double, lat: Double) {
        self.lon = lon
        self.lat = lat
    }

    public var isValid: Bool { lon.isFinite && lat.isFinite && (-180...180).contains(lon) && (-90...90).contains(lat) }
}

/// Why a computation could not be done, for the caller to act on.
public struct ComputeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a stable code a surface maps to its own error.
    public enum Kind: String, Sendable {
        case invalidInput = "invalid_input"
        case emptyNetwork = "empty_network"
        case unreachable = "unreachable"
        /// The caller gave up (its request ended) before the work was done.
        case cancelled = "cancelled"
    }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}

/// Great-circle distance on the sphere of the mean Earth radius (IUGG R1 = 6,371,008.8 m).
public enum Haversine {
    public static let earthRadius = 6_371_008.8

    /// Metres between two points on the sphere: fast and within 0.5% of the ellipsoid, for ranking
    /// and for the haversine figure a Run also reports.
    public static func distance(_ a: Coordinate, _ b: Coordinate) -> Double {
        let lat1 = a.lat * .pi / 180
        let lat2 = b.lat * .pi / 180
        let dLat = lat2 - lat1
        let dLon = (b.lon - a.lon) * .pi / 180
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(lat1) * cos(lat2) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * earthRadius * asin(min(1, sqrt(h)))
    }

    /// The length of a line: the sum of its segments.
    public static func length(_ line: [Coordinate]) -> Double {
        zip(line, line.dropFirst()).reduce(0) { $0 + distance($1.0, $1.1) }
    }
}
