import CairnCompute
import CairnCore
import CairnStore

/// PROJ's transformations for import: a system named by the input (`EPSG:3067`, its URN or URI)
/// to longitude, latitude, with positions easting first as GeoJSON files carry them.
public struct PROJReprojector: GeoJSONImport.Reprojector {
    public init() {}

    public func toDegrees(from system: String) throws -> (@Sendable (Double, Double) -> (Double, Double)?)? {
        guard let crs = CoordinateSystem(system) else {
            throw CairnError(
                .invalidArgument,
                "'\(system)' is not a coordinate system Cairn reads: name it EPSG:NNNN, urn:ogc:def:crs:EPSG::NNNN or its OGC URI",
                details: ["crs": system]
            )
        }
        if crs.isCRS84 || crs == .epsg4326 { return nil }
        do {
            let projection = try Reprojection.cached(crs, axisOrder: .eastingFirst)
            return { x, y in projection.toDegrees(x, y) }
        } catch {
            throw CairnError(.invalidArgument, error.description, details: ["crs": system])
        }
    }
}
