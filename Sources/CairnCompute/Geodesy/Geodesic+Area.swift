import Foundation

extension Geodesic {
    /// The length of a line along geodesics between its positions, in metres.
    public func length(_ line: [Coordinate]) -> Double {
        var sum = CompensatedSum()
        for (p, q) in zip(line, line.dropFirst()) { sum.add(distance(p, q)) }
        return sum.value
    }

    /// The area enclosed by a ring of geodesic edges (m², positive when counter-clockwise, as
    /// GeoJSON's outer rings run) and its perimeter. The ring may or may not repeat its first
    /// position at the end. Edges crossing the antimeridian and rings around a pole are handled
    /// by counting crossings of the prime meridian (§6).
    public func ring(_ positions: [Coordinate]) -> (area: Double, perimeter: Double) {
        var ps = positions
        if ps.count > 1 && ps.first == ps.last { ps.removeLast() }
        guard ps.count >= 3 else { return (0, ps.count == 2 ? 2 * distance(ps[0], ps[1]) : 0) }
        var area = CompensatedSum()
        var perimeter = CompensatedSum()
        var crossings = 0
        for (i, p) in ps.enumerated() {
            let q = ps[(i + 1) % ps.count]
            let edge = inverse(p, q)
            perimeter.add(edge.distance)
            area.add(edge.area)
            crossings += Self.transit(p.lon, q.lon)
        }
        let whole = ellipsoidArea
        if crossings & 1 == 1 { area.add((area.value < 0 ? 1 : -1) * whole / 2) }
        // The sum runs clockwise-positive; GeoJSON and shapely count counter-clockwise as positive.
        area.negate()
        if area.value > whole / 2 {
            area.add(-whole)
        } else if area.value <= -whole / 2 {
            area.add(whole)
        }
        return (0 + area.value, perimeter.value)
    }

    /// The area of a polygon (its outer ring less its holes, whatever their orientation) or of
    /// the polygons of a geometry, in m²; 0 for points and lines.
    public func area(_ g: Geometry) -> Double {
        func polygon(_ rings: [[Coordinate]]) -> Double {
            guard let outer = rings.first else { return 0 }
            return rings.dropFirst().reduce(abs(ring(outer).area)) { $0 - abs(ring($1).area) }
        }
        switch g {
        case .polygon(let rs): return polygon(rs)
        case .multiPolygon(let ps): return ps.reduce(0) { $0 + polygon($1) }
        case .collection(let gs): return gs.reduce(0) { $0 + area($1) }
        default: return 0
        }
    }

    /// +1 when an edge crosses the prime meridian eastwards, −1 westwards, 0 otherwise.
    static func transit(_ lon1: Double, _ lon2: Double) -> Int {
        let l1 = Angle.normalize(lon1)
        let l2 = Angle.normalize(lon2)
        let lon12 = Angle.difference(l1, l2).0
        if l1 <= 0 && l2 > 0 && lon12 > 0 { return 1 }
        if l2 <= 0 && l1 > 0 && lon12 < 0 { return -1 }
        return 0
    }
}

/// A sum carried in two doubles (the rounded sum and the error it has not absorbed yet), so that
/// adding many edge areas of very different sizes loses nothing to round-off.
struct CompensatedSum {
    private var s = 0.0, t = 0.0

    var value: Double { s }

    mutating func add(_ y: Double) {
        let (yy, u) = Angle.twoSum(y, t)
        (s, t) = Angle.twoSum(yy, s)
        if s == 0 { s = u } else { t += u }
    }

    mutating func negate() {
        s = -s
        t = -t
    }
}
