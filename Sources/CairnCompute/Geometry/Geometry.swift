import Foundation

/// A GeoJSON geometry, read strictly: every position in range, lines of two positions or more,
/// rings closed and of four or more.
public indirect enum Geometry: Sendable, Equatable {
    case point(Coordinate)
    case multiPoint([Coordinate])
    case lineString([Coordinate])
    case multiLineString([[Coordinate]])
    case polygon([[Coordinate]])
    case multiPolygon([[[Coordinate]]])
    case collection([Geometry])

    /// Reads a GeoJSON geometry, or the geometry of a Feature.
    public static func parse(_ json: Any) throws(ComputeError) -> Geometry {
        guard let o = json as? [String: Any], let type = o["type"] as? String else {
            throw ComputeError(.invalidInput, "a geometry is a GeoJSON object with a \"type\"")
        }
        if type == "Feature" {
            guard let g = o["geometry"], !(g is NSNull) else { throw ComputeError(.invalidInput, "the feature has no geometry") }
            return try parse(g)
        }
        if type == "GeometryCollection" {
            guard let gs = o["geometries"] as? [Any] else { throw ComputeError(.invalidInput, "a GeometryCollection needs \"geometries\"") }
            var out: [Geometry] = []
            for g in gs { out.append(try parse(g)) }
            return .collection(out)
        }
        guard let c = o["coordinates"] else { throw ComputeError(.invalidInput, "a \(type) needs \"coordinates\"") }
        func pos(_ v: Any) throws(ComputeError) -> Coordinate {
            guard let a = v as? [Any], a.count >= 2, let x = (a[0] as? NSNumber)?.doubleValue, let y = (a[1] as? NSNumber)?.doubleValue
            else {
                throw ComputeError(.invalidInput, "a position is [longitude, latitude]")
            }
            let p = Coordinate(lon: x, lat: y)
            guard p.isValid else {
                throw ComputeError(.invalidInput, "the position (\(x), \(y)) is out of range: longitude −180…180, latitude −90…90")
            }
            return p
        }
        func line(_ v: Any, min: Int) throws(ComputeError) -> [Coordinate] {
            guard let a = v as? [Any] else { throw ComputeError(.invalidInput, "a \(type)'s coordinates are lists of positions") }
            var out: [Coordinate] = []
            for p in a { out.append(try pos(p)) }
            guard out.count >= min else { throw ComputeError(.invalidInput, "a \(type) needs at least \(min) positions per line or ring") }
            return out
        }
        func ring(_ v: Any) throws(ComputeError) -> [Coordinate] {
            let r = try line(v, min: 4)
            guard r.first == r.last else { throw ComputeError(.invalidInput, "a polygon's rings must be closed (first position = last)") }
            return r
        }
        func rings(_ v: Any) throws(ComputeError) -> [[Coordinate]] {
            guard let a = v as? [Any], !a.isEmpty else { throw ComputeError(.invalidInput, "a polygon needs at least one ring") }
            var out: [[Coordinate]] = []
            for r in a { out.append(try ring(r)) }
            return out
        }
        func list(_ v: Any) throws(ComputeError) -> [Any] {
            guard let a = v as? [Any] else { throw ComputeError(.invalidInput, "a \(type)'s coordinates are a list") }
            return a
        }
        switch type {
        case "Point": return .point(try pos(c))
        case "MultiPoint": return .multiPoint(try line(c, min: 1))
        case "LineString": return .lineString(try line(c, min: 2))
        case "MultiLineString":
            var out: [[Coordinate]] = []
            for l in try list(c) { out.append(try line(l, min: 2)) }
            return .multiLineString(out)
        case "Polygon": return .polygon(try rings(c))
        case "MultiPolygon":
            var out: [[[Coordinate]]] = []
            for p in try list(c) { out.append(try rings(p)) }
            return .multiPolygon(out)
        default: throw ComputeError(.invalidInput, "unknown geometry type '\(type)'")
        }
    }

    /// Every position, in order.
    public var positions: [Coordinate] {
        switch self {
        case .point(let p): [p]
        case .multiPoint(let ps), .lineString(let ps): ps
        case .multiLineString(let ls), .polygon(let ls): ls.flatMap { $0 }
        case .multiPolygon(let ps): ps.flatMap { $0.flatMap { $0 } }
        case .collection(let gs): gs.flatMap(\.positions)
        }
    }

    /// 0 for points, 1 for lines, 2 for polygons (a collection: its highest).
    public var dimension: Int {
        switch self {
        case .point, .multiPoint: 0
        case .lineString, .multiLineString: 1
        case .polygon, .multiPolygon: 2
        case .collection(let gs): gs.map(\.dimension).max() ?? 0
        }
    }
}

/// Planar measures on longitude/latitude, as GIS libraries (shapely, GEOS) compute them.
public enum Planar {
    /// A bounding box in degrees: the least and greatest longitude and latitude.
    public struct Box: Sendable, Equatable, Codable {
        public let minLon: Double, minLat: Double, maxLon: Double, maxLat: Double
    }

    /// The box around a geometry; nil for one without coordinates.
    public static func bbox(_ g: Geometry) -> Box? {
        let ps = g.positions
        guard let f = ps.first else { return nil }
        var b = (f.lon, f.lat, f.lon, f.lat)
        for p in ps { b = (min(b.0, p.lon), min(b.1, p.lat), max(b.2, p.lon), max(b.3, p.lat)) }
        return Box(minLon: b.0, minLat: b.1, maxLon: b.2, maxLat: b.3)
    }

    /// The centroid: of points, their mean; of lines, weighted by segment length; of polygons,
    /// weighted by area with holes taken out; of a collection, of its highest-dimension parts.
    public static func centroid(_ g: Geometry) -> Coordinate? {
        var sx = 0.0
        var sy = 0.0
        var w = 0.0
        func add(_ g: Geometry, dimension: Int) {
            switch g {
            case .point(let p) where dimension == 0:
                sx += p.lon
                sy += p.lat
                w += 1
            case .multiPoint(let ps) where dimension == 0:
                for p in ps {
                    sx += p.lon
                    sy += p.lat
                    w += 1
                }
            case .lineString(let l) where dimension == 1: line(l)
            case .multiLineString(let ls) where dimension == 1: ls.forEach(line)
            case .polygon(let rs) where dimension == 2: polygon(rs)
            case .multiPolygon(let ps) where dimension == 2: ps.forEach(polygon)
            case .collection(let gs): for x in gs { add(x, dimension: dimension) }
            default: break
            }
        }
        func line(_ l: [Coordinate]) {
            for (a, b) in zip(l, l.dropFirst()) {
                let d = hypot(b.lon - a.lon, b.lat - a.lat)
                sx += d * (a.lon + b.lon) / 2
                sy += d * (a.lat + b.lat) / 2
                w += d
            }
        }
        func polygon(_ rs: [[Coordinate]]) {
            for (i, r) in rs.enumerated() {
                // Shoelace over the ring, relative to its first position for precision; holes subtract.
                let o = r[0]
                var a = 0.0
                var cx = 0.0
                var cy = 0.0
                for (p, q) in zip(r, r.dropFirst()) {
                    let x0 = p.lon - o.lon
                    let y0 = p.lat - o.lat
                    let x1 = q.lon - o.lon
                    let y1 = q.lat - o.lat
                    let cross = x0 * y1 - x1 * y0
                    a += cross
                    cx += (x0 + x1) * cross
                    cy += (y0 + y1) * cross
                }
                let area = abs(a) / 2 * (i == 0 ? 1 : -1)
                if a != 0 {
                    sx += area * (o.lon + cx / (3 * a))
                    sy += area * (o.lat + cy / (3 * a))
                    w += area
                }
            }
        }
        let dim = g.dimension
        add(g, dimension: dim)
        if w == 0, dim > 0 {
            // Degenerate (zero length or area): fall back to the positions' mean.
            return centroid(.multiPoint(g.positions))
        }
        return w == 0 ? nil : Coordinate(lon: sx / w, lat: sy / w)
    }

    /// Whether a point lies inside a polygon (on its outer ring and in none of its holes).
    public static func contains(_ polygon: [[Coordinate]], _ p: Coordinate) -> Bool {
        func inRing(_ ring: [Coordinate]) -> Bool {
            var inside = false
            var j = ring.count - 1
            for i in ring.indices {
                let a = ring[i]
                let b = ring[j]
                if (a.lat > p.lat) != (b.lat > p.lat), p.lon < (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon {
                    inside.toggle()
                }
                j = i
            }
            return inside
        }
        guard let outer = polygon.first, inRing(outer) else { return false }
        return !polygon.dropFirst().contains(where: inRing)
    }

    /// The convex hull of points (Andrew's monotone chain), as a closed ring, counter-clockwise.
    public static func convexHull(_ points: [Coordinate]) -> [Coordinate] {
        let ps = Array(Set(points)).sorted { ($0.lon, $0.lat) < ($1.lon, $1.lat) }
        guard ps.count >= 3 else { return ps.isEmpty ? [] : ps + [ps[0]] }
        func cross(_ o: Coordinate, _ a: Coordinate, _ b: Coordinate) -> Double {
            (a.lon - o.lon) * (b.lat - o.lat) - (a.lat - o.lat) * (b.lon - o.lon)
        }
        var lower: [Coordinate] = []
        var upper: [Coordinate] = []
        for p in ps {
            while lower.count >= 2 && cross(lower[lower.count - 2], lower[lower.count - 1], p) <= 0 { lower.removeLast() }
            lower.append(p)
        }
        for p in ps.reversed() {
            while upper.count >= 2 && cross(upper[upper.count - 2], upper[upper.count - 1], p) <= 0 { upper.removeLast() }
            upper.append(p)
        }
        let hull = Array(lower.dropLast()) + Array(upper.dropLast())
        return hull + [hull[0]]
    }
}
