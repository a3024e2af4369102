import CPROJ
import Synchronization

/// Why a coordinate system cannot be used.
public struct ReprojectionError: Error, Sendable, CustomStringConvertible {
    public let system: CoordinateSystem
    public let reason: String
    public var description: String { "cannot transform coordinates of \(system): \(reason)" }
}

/// A transformation between a system and CRS84 (longitude, latitude on WGS 84), done by PROJ
/// (Debian's libproj, linked as a system library: projection math is PROJ's, never ours).
///
/// `axisOrder` says how positions are written in the other system: `.authority` as the system
/// defines its axes (what OGC API – Features Part 2 answers in: EPSG:4326 latitude first,
/// EPSG:3879 northing first), `.eastingFirst` as GeoJSON files carry them (GDAL and QGIS write x
/// east, y north whatever the system defines). PROJ objects are not thread-safe: each value owns
/// its own context and transforms under a lock. Values are shared through `Reprojection.cached`,
/// since building one reads PROJ's database.
public final class Reprojection: Sendable {
    public enum AxisOrder: Sendable { case authority, eastingFirst }

    public let system: CoordinateSystem
    public let axisOrder: AxisOrder
    private let handle: Mutex<Handle>

    private struct Handle: @unchecked Sendable {
        let context: OpaquePointer
        let transform: OpaquePointer
    }

    public init(_ system: CoordinateSystem, axisOrder: AxisOrder) throws(ReprojectionError) {
        self.system = system
        self.axisOrder = axisOrder
        guard let context = proj_context_create() else { throw ReprojectionError(system: system, reason: "PROJ could not start") }
        // Transformations use only what PROJ has on this machine: no grid is fetched from outside.
        proj_context_set_enable_network(context, 0)
        guard let raw = proj_create_crs_to_crs(context, "OGC:CRS84", system.description, nil) else {
            proj_context_destroy(context)
            throw ReprojectionError(system: system, reason: "PROJ does not know this system")
        }
        var transform = raw
        if axisOrder == .eastingFirst {
            guard let normalized = proj_normalize_for_visualization(context, raw) else {
                proj_destroy(raw)
                proj_context_destroy(context)
                throw ReprojectionError(system: system, reason: "PROJ cannot order its axes east, north")
            }
            proj_destroy(raw)
            transform = normalized
        }
        handle = Mutex(Handle(context: context, transform: transform))
    }

    deinit {
        handle.withLock { h in
            proj_destroy(h.transform)
            proj_context_destroy(h.context)
        }
    }

    /// A position in the system from longitude, latitude; nil when it has no image there.
    public func fromDegrees(_ lon: Double, _ lat: Double) -> (Double, Double)? {
        run(lon, lat, PJ_FWD)
    }

    /// Longitude, latitude from a position in the system; nil when it cannot be transformed.
    public func toDegrees(_ x: Double, _ y: Double) -> (Double, Double)? {
        run(x, y, PJ_INV)
    }

    /// A box in the system (its first axis, then its second: min, min, max, max) as the smallest
    /// west, south, east, north box in degrees holding it (edges densified, as PROJ does).
    public func boundsToDegrees(_ box: [Double]) -> [Double]? {
        guard box.count == 4 else { return nil }
        return handle.withLock { h -> [Double]? in
            var (a, b, c, d) = (0.0, 0.0, 0.0, 0.0)
            guard proj_trans_bounds(h.context, h.transform, PJ_INV, box[0], box[1], box[2], box[3], &a, &b, &c, &d, 21) == 1 else {
                return nil
            }
            return [a, b, c, d].allSatisfy(\.isFinite) ? [a, b, c, d] : nil
        }
    }

    private func run(_ x: Double, _ y: Double, _ direction: PJ_DIRECTION) -> (Double, Double)? {
        handle.withLock { h -> (Double, Double)? in
            let out = proj_trans(h.transform, direction, proj_coord(x, y, 0, .infinity))
            let (a, b) = (out.xy.x, out.xy.y)
            return a.isFinite && b.isFinite ? (a, b) : nil
        }
    }

    private static let cache = Mutex<[String: Reprojection]>([:])

    /// The shared transformation for a system and axis order, built on first use.
    public static func cached(_ system: CoordinateSystem, axisOrder: AxisOrder) throws(ReprojectionError) -> Reprojection {
        let key = "\(system) \(axisOrder)"
        if let known = cache.withLock({ $0[key] }) { return known }
        let made = try Reprojection(system, axisOrder: axisOrder)
        return cache.withLock { c in
            if let raced = c[key] { return raced }
            c[key] = made
            return made
        }
    }
}
