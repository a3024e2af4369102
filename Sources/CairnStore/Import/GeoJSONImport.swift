import CairnCore
import Foundation

/// Imports GeoJSON as one file per feature, in one commit.
///
/// Accepts a FeatureCollection, a single Feature, or a GeoJSON text sequence (RFC 8142: one
/// feature per line, each optionally led by the RS character). Sequence lines are stored as
/// given; features of a collection are stored as compact JSON with sorted keys.
public enum GeoJSONImport {
    /// How far an import has got, for a progress line.
    public struct Progress: Sendable {
        public let phase: String
        public let done: Int
        public let total: Int

        public init(phase: String, done: Int, total: Int) {
            self.phase = phase
            self.done = done
            self.total = total
        }
    }

    /// What an import wrote, and the commit.
    public struct Result: Sendable, Codable {
        public let features: Int
        public let outcome: CommitOutcome

        public init(features: Int, outcome: CommitOutcome) {
            self.features = features
            self.outcome = outcome
        }
    }

    /// Turns positions of a named coordinate system into longitude and latitude. The store does
    /// no projection math itself: the caller passes PROJ's (see `cairn import`).
    public protocol Reprojector: Sendable {
        /// The transformation from `system` (as the input names it) to degrees, positions given
        /// easting first as GeoJSON writers give them; an error naming the system when it is
        /// unknown. Nil for a system that is already longitude, latitude in degrees.
        func toDegrees(from system: String) throws -> (@Sendable (Double, Double) -> (Double, Double)?)?
    }

    /// The features of an input, ready to store, and the coordinate system they were given in
    /// when it was not longitude, latitude (they were transformed from it).
    public struct Parsed: Sendable {
        public let features: [(feature: [String: JSONValue], bytes: [UInt8])]
        public let sourceSystem: String?
    }

    /// Features of the input with their bytes to store, in input order. Positions must end as
    /// longitude and latitude in degrees (RFC 7946): an input in another system (its `crs`
    /// member, or `system` given by the caller) is transformed with `reprojector`, and refused
    /// without one; a position outside [-180, 180] × [-90, 90] (a projected export without its
    /// `crs` member) is refused naming the feature, never stored as degrees.
    public static func parse(_ data: [UInt8], system declared: String? = nil, reprojector: (any Reprojector)? = nil) throws -> Parsed {
        let (found, named) = try parseFeatures(data)
        var features = found
        var source: String?
        if let system = declared ?? named, !degreeSystems.contains(system) {
            guard let reprojector else {
                throw CairnError(
                    .invalidArgument,
                    "the input is in \(system), not WGS 84 longitude and latitude: reproject it first (ogr2ogr -t_srs EPSG:4326 "
                        + "out.geojson in.geojson, or in QGIS export with CRS EPSG:4326)",
                    details: ["crs": system]
                )
            }
            if let transform = try reprojector.toDegrees(from: system) {
                source = system
                features = try features.enumerated().map { (i, f) in try reproject(f.feature, index: i, transform) }
            }
        }
        for (i, f) in features.enumerated() {
            if let bad = Self.outOfRange(f.feature["geometry"]) {
                throw CairnError(
                    .invalidArgument,
                    "feature \(i + 1) has the position [\(bad.0), \(bad.1)], which is not longitude and latitude in degrees: GeoJSON is "
                        + "WGS 84 (RFC 7946); name the system it is in (cairn import --crs EPSG:3067) or reproject it first "
                        + "(ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson)",
                    details: ["feature": String(i + 1)]
                )
            }
        }
        return Parsed(features: features, sourceSystem: source)
    }

    /// Longitude, latitude features (no other system accepted): what `parse` gives without a reprojector.
    public static func features(in data: [UInt8]) throws -> [(feature: [String: JSONValue], bytes: [UInt8])] {
        try parse(data).features
    }

    private static func reproject(
        _ feature: [String: JSONValue],
        index i: Int,
        _ transform: (Double, Double) -> (Double, Double)?
    ) throws(CairnError) -> (feature: [String: JSONValue], bytes: [UInt8]) {
        var f = feature
        if let geometry = feature["geometry"], geometry != .null {
            guard let mapped = geometry.mapPositions(transform) else {
                throw CairnError(
                    .invalidArgument,
                    "feature \(i + 1) has a position that cannot be transformed to longitude and latitude",
                    details: ["feature": String(i + 1)]
                )
            }
            f["geometry"] = mapped
        }
        f["bbox"] = nil
        return (f, Array(JSONValue.object(f).text.utf8))
    }

    /// Coordinate systems a collection may name: the ones that mean longitude, latitude in degrees.
    static let degreeSystems: Set<String> = [
        "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "EPSG:4326", "urn:ogc:def:crs:EPSG::4326", "http://www.opengis.net/def/crs/EPSG/0/4326", "CRS84",
    ]

    /// The system a collection's `crs` member (the 2008 GeoJSON form QGIS and GDAL still write)
    /// names, if any.
    static func namedSystem(_ object: [String: JSONValue]) -> String? {
        guard case .object(let crs)? = object["crs"], case .object(let properties)? = crs["properties"],
            case .string(let name)? = properties["name"]
        else { return nil }
        return name
    }

    /// The first position of a geometry outside the range of degrees, if any.
    static func outOfRange(_ geometry: JSONValue?) -> (Double, Double)? {
        var bad: (Double, Double)?
        geometry?.forEachPosition { lon, lat in
            if abs(lon) <= 180 && abs(lat) <= 90 { return true }
            bad = (lon, lat)
            return false
        }
        return bad
    }

    private static func parseFeatures(
        _ data: [UInt8]
    ) throws(CairnError) -> (features: [(feature: [String: JSONValue], bytes: [UInt8])], system: String?) {
        let firstByte = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: true)
        let looksLikeSequence =
            firstByte == 0x1E || (lines.count > 1 && lines.first.flatMap { parseObject(Array(trim($0))) }?["type"] == .string("Feature"))
        if looksLikeSequence {
            var out: [(feature: [String: JSONValue], bytes: [UInt8])] = []
            out.reserveCapacity(lines.count)
            for (i, line) in lines.enumerated() {
                let bytes = Array(trim(line))
                if bytes.isEmpty { continue }
                guard let object = parseObject(bytes), object["type"] == .string("Feature") else {
                    throw CairnError(
                        .invalidArgument,
                        "line \(i + 1) of the GeoJSON sequence is not a Feature",
                        details: ["line": String(i + 1)]
                    )
                }
                out.append((object, bytes))
            }
            return (out, nil)
        }
        guard let object = parseObject(data) else {
            throw CairnError(.invalidArgument, "the input is not GeoJSON: neither a JSON document nor a sequence of features")
        }
        let system = namedSystem(object)
        switch object["type"] {
        case .string("FeatureCollection"):
            guard case .array(let list)? = object["features"] else {
                throw CairnError(.invalidArgument, "the FeatureCollection has no \"features\" array")
            }
            let features = try list.enumerated().map { (i, v) throws(CairnError) in
                guard case .object(let f) = v, f["type"] == .string("Feature") else {
                    throw CairnError(.invalidArgument, "features[\(i)] is not a Feature", details: ["feature": String(i + 1)])
                }
                return (feature: f, bytes: Array(JSONValue.object(f).text.utf8))
            }
            return (features, system)
        case .string("Feature"):
            var f = object
            f["crs"] = nil
            return ([(f, Array(JSONValue.object(f).text.utf8))], system)
        default:
            throw CairnError(.invalidArgument, "the input is JSON but neither a Feature nor a FeatureCollection")
        }
    }

    private static func trim(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, f == 0x1E || f == 0x20 || f == 0x09 || f == 0x0D { s = s.dropFirst() }
        while let l = s.last, l == 0x20 || l == 0x09 || l == 0x0D { s = s.dropLast() }
        return s
    }

    private static func parseObject(_ bytes: [UInt8]) -> [String: JSONValue]? {
        guard case .object(let o)? = JSONValue.parse(bytes) else { return nil }
        return o
    }

    /// Writes every feature at its templated path as one commit on `branch`.
    public static func run(
        data: [UInt8],
        template: PathTemplate,
        into project: Project,
        branch: String,
        metadata: CommitMetadata,
        progress: (@Sendable (Progress) -> Void)? = nil
    ) async throws -> Result {
        let changes = try prepare(data: data, template: template, progress: progress)
        progress?(Progress(phase: "commit", done: 0, total: changes.count))
        let outcome = try await project.commit(changes, branch: branch, metadata: metadata)
        progress?(Progress(phase: "commit", done: changes.count, total: changes.count))
        return Result(features: changes.count, outcome: outcome)
    }

    /// One write per feature, at the path the template gives it; two features on one path is an error.
    public static func prepare(
        data: [UInt8],
        template: PathTemplate,
        progress: (@Sendable (Progress) -> Void)? = nil
    ) throws -> [FileChange] {
        try prepare(try parse(data), template: template, progress: progress)
    }

    /// One write per parsed feature (see `prepare(data:template:progress:)`). Without a template
    /// each feature's `id` is its path, as `cairn export` writes it: the export of a project read
    /// back (through GDAL or any GeoJSON tool) lands on the same files, the id not stored twice.
    public static func prepare(
        _ parsed: Parsed,
        template: PathTemplate?,
        progress: (@Sendable (Progress) -> Void)? = nil
    ) throws -> [FileChange] {
        let features = parsed.features
        guard !features.isEmpty else { throw CairnError(.invalidArgument, "the input has no features") }
        var changes: [FileChange] = []
        changes.reserveCapacity(features.count)
        var firstByPath: [String: Int] = [:]
        for (i, f) in features.enumerated() {
            var bytes = f.bytes
            let raw: String
            if let template {
                raw = try template.render(f.feature, index: i)
            } else {
                guard case .string(let id)? = f.feature["id"] else {
                    throw CairnError(
                        .invalidArgument,
                        "feature \(i + 1) has no string id to take its path from (give --template instead)",
                        details: ["feature": String(i + 1)]
                    )
                }
                raw = id
                var stored = f.feature
                stored["id"] = nil
                bytes = Array(JSONValue.object(stored).text.utf8)
            }
            let path = try FilePath(raw).string
            if let earlier = firstByPath[path] {
                throw CairnError(
                    .invalidArgument,
                    "the path template gives '\(path)' to both feature \(earlier + 1) and feature \(i + 1); add a field that tells them "
                        + "apart (such as {geometry.type} or {#})",
                    details: ["path": path]
                )
            }
            firstByPath[path] = i
            changes.append(.write(path: path, content: bytes))
            if i % 500 == 0 || i == features.count - 1 { progress?(Progress(phase: "prepare", done: i + 1, total: features.count)) }
        }
        return changes
    }
}
