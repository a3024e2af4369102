import CairnCore
import CairnStore
import Foundation

/// The grid index of the entity types that spatial rules search (`near`, `inside`): one empty
/// file per (type, cell, entity), `.cairn/grid/<type>/<cell>/<entity path>`, kept by the validator in the same commit
/// as the change, like the link index. A rule then reads the entities in the cells around the
/// entity it checks, so its cost follows what is nearby, not how many entities there are.
public enum SpatialIndex {
    public static let root = ".cairn/grid/"
    /// Cells are 0.01° of longitude by 0.01° of latitude (about 1.1 km by 0.55 km at 60° N).
    static let cell = 0.01
    /// An entity whose bounding box covers more cells than this is filed under `all`, which
    /// every search reads (a very long road, a large zone).
    static let maxCells = 256

    typealias Box = (minLon: Double, minLat: Double, maxLon: Double, maxLat: Double)

    static func box(_ geometry: JSONValue?) -> Box? {
        let points = Geo.parts(geometry).flatMap { $0 }
        guard let first = points.first else { return nil }
        var b: Box = (first.lon, first.lat, first.lon, first.lat)
        for p in points.dropFirst() {
            b = (min(b.minLon, p.lon), min(b.minLat, p.lat), max(b.maxLon, p.lon), max(b.maxLat, p.lat))
        }
        return b
    }

    /// The cells a box covers, or `["all"]` when they are too many.
    static func cells(_ b: Box) -> [String] {
        let x0 = Int((b.minLon / cell).rounded(.down))
        let x1 = Int((b.maxLon / cell).rounded(.down))
        let y0 = Int((b.minLat / cell).rounded(.down))
        let y1 = Int((b.maxLat / cell).rounded(.down))
        guard (x1 - x0 + 1) * (y1 - y0 + 1) <= maxCells else { return ["all"] }
        var out: [String] = []
        for x in x0...x1 { for y in y0...y1 { out.append("\(x)_\(y)") } }
        return out
    }

    /// Where an entity of an indexed type is filed.
    static func cells(of geometry: JSONValue?) -> [String] {
        box(geometry).map(cells) ?? []
    }

    /// The cells to search for entities within `metres` of `geometry`, always with `all`.
    static func cells(around geometry: JSONValue?, metres: Double) -> [String] {
        guard let b = box(geometry) else { return [] }
        let dLat = metres / 110_540
        let dLon = metres / (111_320 * max(0.01, cosDegrees(b.maxLat)))
        let grown: Box = (b.minLon - dLon, b.minLat - dLat, b.maxLon + dLon, b.maxLat + dLat)
        return Array(Set(cells(grown) + ["all"])).sorted()
    }

    static func cosDegrees(_ d: Double) -> Double { cos(d * .pi / 180) }

    /// The folder of one grid cell of one type: a spatial rule reads only the cells near an entity.
    public static func prefix(type: String, cell: String) -> String { root + type + "/" + cell + "/" }
    static func marker(type: String, cell: String, path: String) -> String { prefix(type: type, cell: cell) + path }

    /// The index entries of one entity (empty files).
    static func markers(type: String, path: String, geometry: JSONValue?) -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for c in cells(of: geometry) { out[marker(type: type, cell: c, path: path)] = [] }
        return out
    }

    /// The cells around a point, nearest first, so a search can stop at the first match.
    static func byDistance(_ cells: [String], from geometry: JSONValue?) -> [String] {
        guard let b = box(geometry) else { return cells }
        let cx = (b.minLon + b.maxLon) / 2 / cell
        let cy = (b.minLat + b.maxLat) / 2 / cell
        func d(_ c: String) -> Double {
            let xy = c.split(separator: "_").compactMap { Double($0) }
            guard xy.count == 2 else { return .infinity }  // `all` last
            return (xy[0] + 0.5 - cx) * (xy[0] + 0.5 - cx) + (xy[1] + 0.5 - cy) * (xy[1] + 0.5 - cy)
        }
        return cells.sorted { d($0) < d($1) }
    }
}
