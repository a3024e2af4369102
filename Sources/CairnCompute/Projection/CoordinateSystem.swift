/// A coordinate reference system named by authority and code, however the name was written:
/// `EPSG:3067`, `urn:ogc:def:crs:EPSG::3067`, `http://www.opengis.net/def/crs/EPSG/0/3067`, or
/// CRS84 (longitude, latitude in degrees: what GeoJSON and Cairn store) in any of its forms.
/// OGC APIs name systems by URI, GeoJSON files by URN, people by `EPSG:NNNN`; all mean the same.
public struct CoordinateSystem: Sendable, Hashable, CustomStringConvertible {
    public let authority: String
    public let code: String

    /// Longitude, latitude in degrees on WGS 84: what every stored geometry is in.
    public static let crs84 = CoordinateSystem(authority: "OGC", code: "CRS84")
    /// WGS 84 as EPSG defines it: latitude first.
    public static let epsg4326 = CoordinateSystem(authority: "EPSG", code: "4326")

    public init(authority: String, code: String) {
        (self.authority, self.code) = (authority, code)
    }

    /// Reads any of the forms above; nil for anything else.
    public init?(_ text: String) {
        let t = text.filter { !$0.isWhitespace }
        let parts: [Substring]
        if let rest = Self.dropPrefix(t, "http://www.opengis.net/def/crs/") ?? Self.dropPrefix(t, "https://www.opengis.net/def/crs/") {
            // AUTHORITY/VERSION/CODE
            let p = rest.split(separator: "/", omittingEmptySubsequences: false)
            guard p.count == 3 else { return nil }
            parts = [p[0], p[2]]
        } else if let rest = Self.dropPrefix(t, "urn:ogc:def:crs:") {
            // AUTHORITY:VERSION:CODE (the version often empty)
            let p = rest.split(separator: ":", omittingEmptySubsequences: false)
            guard p.count == 3 else { return nil }
            parts = [p[0], p[2]]
        } else if t.uppercased() == "CRS84" {
            parts = ["OGC", "CRS84"]
        } else {
            let p = t.split(separator: ":", omittingEmptySubsequences: false)
            guard p.count == 2 else { return nil }
            parts = p
        }
        let authority = parts[0].uppercased()
        let code = parts[1].uppercased()
        guard ["EPSG", "OGC"].contains(authority), !code.isEmpty, code.count <= 12, code.allSatisfy({ $0.isLetter || $0.isNumber }) else {
            return nil
        }
        if authority == "EPSG" && !code.allSatisfy(\.isNumber) { return nil }
        self.init(authority: authority, code: code)
    }

    /// Whether positions in this system are longitude, latitude in degrees, in that order: CRS84
    /// itself, or a GeoJSON file's EPSG:4326 (GeoJSON writers put longitude first whatever the
    /// system's official axis order).
    public var isCRS84: Bool { self == .crs84 }

    /// `EPSG:3067`: the form PROJ and people read.
    public var description: String { "\(authority):\(code)" }

    /// The OGC URI, as OGC API – Features lists and takes systems.
    public var uri: String { "http://www.opengis.net/def/crs/\(authority)/\(authority == "OGC" ? "1.3" : "0")/\(code)" }

    private static func dropPrefix(_ s: String, _ prefix: String) -> String? {
        s.lowercased().hasPrefix(prefix) ? String(s.dropFirst(prefix.count)) : nil
    }
}
