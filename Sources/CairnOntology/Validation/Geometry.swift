import CairnCompute
import CairnStore
import Foundation

/// What the spatial rules need of geometry: GeoJSON coordinates read into lon/lat pairs and the
/// distance between shapes; distances and containment come from the Run primitive's module.
enum Geo {
    typealias Position = (lon: Double, lat: Double)
    static let earthRadius = 6_371_008.8

    /// The positions of a geometry, grouped as its parts (each line, each polygon ring).
    static func parts(_ geometry: JSONValue?) -> [[Position]] {
        guard case .object(let g)? = geometry, case .string(let type)? = g["type"], let coords = g["coordinates"] else { return [] }
        func pos(_ v: JSONValue) -> Position? {
            guard case .array(let a) = v, a.count >= 2, let x = num(a[0]), let y = num(a[1]) else { return nil }
            return (x, y)
        }
        func line(_ v: JSONValue) -> [Position] {
            guard case .array(let a) = v else { return [] }
            return a.compactMap(pos)
        }
        func lines(_ v: JSONValue) -> [[Position]] {
            guard case .array(let a) = v else { return [] }
            return a.map(line)
        }
        switch type {
        case "Point": return pos(coords).map { [[$0]] } ?? []
        case "MultiPoint", "LineString": return [line(coords)]
        case "MultiLineString", "Polygon": return lines(coords)
        case "MultiPolygon":
            guard case .array(let polys) = coords else { return [] }
            return polys.flatMap(lines)
        default: return []
        }
    }

    /// Polygons as rings (outer first, then holes), for `inside`.
    static func polygons(_ geometry: JSONValue?) -> [[[Position]]] {
        guard case .object(let g)? = geometry, case .string(let type)? = g["type"], let coords = g["coordinates"] else { return [] }
        func rings(_ v: JSONValue) -> [[Position]] {
            guard case .array(let a) = v else { return [] }
            return a.map { r in
                guard case .array(let ps) = r else { return [] }
                return ps.compactMap { p in
                    guard case .array(let xy) = p, xy.count >= 2, let x = num(xy[0]), let y = num(xy[1]) else { return nil }
                    return (x, y)
                }
            }
        }
        switch type {
        case "Polygon": return [rings(coords)]
        case "MultiPolygon":
            guard case .array(let a) = coords else { return [] }
            return a.map(rings)
        default: return []
        }
    }

    static func num(_ v: JSONValue) -> Double? {
        switch v {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// Whether the coordinates have the shape their type needs (positions of numbers; a line
    /// at least two, a ring at least four and closed).
    static func isWellFormed(_ geometry: JSONValue) -> Bool {
        guard case .object(let g) = geometry, case .string(let type)? = g["type"], g["coordinates"] != nil else { return false }
        let ps = parts(geometry)
        switch type {
        case "Point": return ps.count == 1 && ps[0].count == 1
        case "MultiPoint": return !ps.isEmpty
        case "LineString": return ps.count == 1 && ps[0].count >= 2
        case "MultiLineString": return !ps.isEmpty && ps.allSatisfy { $0.count >= 2 }
        case "Polygon", "MultiPolygon":
            return !ps.isEmpty && ps.allSatisfy { $0.count >= 4 && $0.first!.lon == $0.last!.lon && $0.first!.lat == $0.last!.lat }
        default: return false
        }
    }

    static func haversine(_ a: Position, _ b: Position) -> Double {
        Haversine.distance(Coordinate(lon: a.lon, lat: a.lat), Coordinate(lon: b.lon, lat: b.lat))
    }

    /// Distance from a point to a segment, in metres, on a local equirectangular projection
    /// around the point: exact enough at the few-kilometre scale these rules use.
    static func toSegment(_ p: Position, _ a: Position, _ b: Position) -> Double {
        let k = cos(p.lat * .pi / 180)
        let ax = (a.lon - p.lon) * k
        let ay = a.lat - p.lat
        let bx = (b.lon - p.lon) * k
        let by = b.lat - p.lat
        let dx = bx - ax
        let dy = by - ay
        let len2 = dx * dx + dy * dy
        var t = len2 == 0 ? 0 : -(ax * dx + ay * dy) / len2
        t = max(0, min(1, t))
        let cx = p.lon + (ax + t * dx) / max(k, 1e-12)
        let cy = p.lat + ay + t * dy
        return haversine(p, (cx, cy))
    }

    /// The least distance between two geometries' positions and segments, in metres.
    static func distance(_ a: JSONValue?, _ b: JSONValue?) -> Double? {
        let pa = parts(a)
        let pb = parts(b)
        guard !pa.isEmpty, !pb.isEmpty else { return nil }
        var best = Double.infinity
        func pointToParts(_ p: Position, _ parts: [[Position]]) {
            for part in parts {
                if part.count == 1 { best = min(best, haversine(p, part[0])) }
                for i in part.indices.dropLast() { best = min(best, toSegment(p, part[i], part[i + 1])) }
            }
        }
        for part in pa { for p in part { pointToParts(p, pb) } }
        for part in pb { for p in part { pointToParts(p, pa) } }
        return best
    }

    /// Inside the outer ring and in no hole (the Run primitive's test, on the same positions).
    static func contains(_ polygon: [[Position]], _ p: Position) -> Bool {
        Planar.contains(polygon.map { $0.map { Coordinate(lon: $0.lon, lat: $0.lat) } }, Coordinate(lon: p.lon, lat: p.lat))
    }
}
