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

    /// Features of the input with their bytes to store, in input order. Positions must be
    /// longitude and latitude in degrees (RFC 7946): a collection that names another coordinate
    /// system, or a position outside [-180, 180] × [-90, 90] (a projected export without its
    /// `crs` member), is refused with what to do, never stored as degrees.
    public static func features(in data: [UInt8]) throws(CairnError) -> [(feature: [String: JSONValue], bytes: [UInt8])] {
        let found = try parseFeatures(data)
        for (i, f) in found.enumerated() {
            if let bad = Self.outOfRange(f.feature["geometry"]) {
                throw CairnError(
                    .invalidArgument,
                    "feature \(i + 1) has the position [\(bad.0), \(bad.1)], which is not longitude and latitude in degrees: GeoJSON is "
                        + "WGS 84 (RFC 7946); reproject it first (ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson)",
                    details: ["feature": String(i + 1)]
                )
            }
        }
        return found
    }

    /// Coordinate systems a collection may name: the ones that mean longitude, latitude in degrees.
    static let degreeSystems: Set<String> = [
        "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "EPSG:4326", "urn:ogc:def:crs:EPSG::4326", "http://www.opengis.net/def/crs/EPSG/0/4326", "CRS84",
    ]

    /// Refuses a collection whose `crs` member (the 2008 GeoJSON form QGIS and GDAL still write)
    /// names a system other than WGS 84 degrees.
    static func checkSystem(_ object: [String: JSONValue]) throws(CairnError) {
        guard case .object(let crs)? = object["crs"] else { return }
        guard case .object(let properties)? = crs["properties"], case .string(let name)? = properties["name"] else { return }
        guard !degreeSystems.contains(name) else { return }
        throw CairnError(
            .invalidArgument,
            "the input is in \(name), not WGS 84 longitude and latitude: reproject it first (ogr2ogr -t_srs EPSG:4326 out.geojson "
                + "in.geojson, or in QGIS export with CRS EPSG:4326)",
            details: ["crs": name]
        )
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

    private static func parseFeatures(_ data: [UInt8]) throws(CairnError) -> [(feature: [String: JSONValue], bytes: [UInt8])] {
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
            return out
        }
        guard let object = parseObject(data) else {
            throw CairnError(.invalidArgument, "the input is not GeoJSON: neither a JSON document nor a sequence of features")
        }
        try checkSystem(object)
        switch object["type"] {
        case .string("FeatureCollection"):
            guard case .array(let list)? = object["features"] else {
                throw CairnError(.invalidArgument, "the FeatureCollection has no \"features\" array")
            }
            return try list.enumerated().map { (i, v) throws(CairnError) in
                guard case .object(let f) = v, f["type"] == .string("Feature") else {
                    throw CairnError(.invalidArgument, "features[\(i)] is not a Feature", details: ["feature": String(i + 1)])
                }
                return (f, Array(JSONValue.object(f).text.utf8))
            }
        case .string("Feature"):
            return [(object, Array(JSONValue.object(object).text.utf8))]
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
        let features = try features(in: data)
        guard !features.isEmpty else { throw CairnError(.invalidArgument, "the input has no features") }
        var changes: [FileChange] = []
        changes.reserveCapacity(features.count)
        var firstByPath: [String: Int] = [:]
        for (i, f) in features.enumerated() {
            let raw = try template.render(f.feature, index: i)
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
            changes.append(.write(path: path, content: f.bytes))
            if i % 500 == 0 || i == features.count - 1 { progress?(Progress(phase: "prepare", done: i + 1, total: features.count)) }
        }
        return changes
    }
}
