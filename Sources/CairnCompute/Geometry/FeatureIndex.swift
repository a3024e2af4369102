import Foundation

/// Nearest-feature search over any geometries: a uniform grid over their bounding boxes
/// (cells of 0.005°), searched in rings outward from the query point until no cell left
/// can hold anything nearer. A grid rather than an R-tree: the features of one project are
/// spread over a city or a region, where a grid's cells stay evenly filled, and it is built in
/// one pass.
public struct FeatureIndex: Sendable {
    /// A feature as the index keeps it: its id (the file path), geometry and box.
    public struct Feature: Sendable {
        public let id: String
        public let geometry: Geometry
        public init(id: String, geometry: Geometry) {
            self.id = id
            self.geometry = geometry
        }
    }

    /// The feature nearest a point, how far it is, and its nearest position.
    public struct Nearest: Sendable, Equatable, Encodable {
        public let id: String
        /// Metres from the point to the feature (0 inside a polygon).
        public let distance: Double
        /// The feature's nearest position to the point.
        public let point: Coordinate
    }

    let features: [Feature]
    let cells: [Int64: [Int32]]
    /// Features whose box covers too many cells are checked on every query.
    let large: [Int32]
    static let cellSize = 0.005

    public init(_ features: [Feature]) {
        self.features = features
        var cells: [Int64: [Int32]] = [:]
        var large: [Int32] = []
        for (i, f) in features.enumerated() {
            guard let b = Planar.bbox(f.geometry) else { continue }
            let x0 = Int((b.minLon / Self.cellSize).rounded(.down))
            let x1 = Int((b.maxLon / Self.cellSize).rounded(.down))
            let y0 = Int((b.minLat / Self.cellSize).rounded(.down))
            let y1 = Int((b.maxLat / Self.cellSize).rounded(.down))
            if (x1 - x0 + 1) * (y1 - y0 + 1) > 1024 {
                large.append(Int32(i))
                continue
            }
            for x in x0...x1 { for y in y0...y1 { cells[RoadNetwork.cellKey(x, y), default: []].append(Int32(i)) } }
        }
        self.cells = cells
        self.large = large
    }

    /// The feature nearest to `p` (ties: the first in input order).
    public func nearest(to p: Coordinate) throws(ComputeError) -> Nearest {
        guard p.isValid else { throw ComputeError(.invalidInput, "the point (\(p.lon), \(p.lat)) is out of range") }
        guard !features.isEmpty else { throw ComputeError(.invalidInput, "there is no feature to search") }
        var best: (d: Double, i: Int, q: Coordinate)?
        var seen = Set<Int32>()
        func consider(_ i: Int32) {
            guard seen.insert(i).inserted else { return }
            let (d, q) = Self.distance(p, features[Int(i)].geometry)
            if best == nil || d < best!.d || (d == best!.d && Int(i) < best!.i) { best = (d, Int(i), q) }
        }
        large.forEach(consider)
        let cx = Int((p.lon / Self.cellSize).rounded(.down))
        let cy = Int((p.lat / Self.cellSize).rounded(.down))
        let metresPerCell = Self.cellSize * 110_540 * max(0.05, cos(p.lat * .pi / 180))
        var ring = 0
        while ring <= 40_000 {
            for x in (cx - ring)...(cx + ring) {
                for y in (cy - ring)...(cy + ring) where max(abs(x - cx), abs(y - cy)) == ring {
                    cells[RoadNetwork.cellKey(x, y)]?.forEach(consider)
                }
            }
            if let best, Double(ring) * metresPerCell > best.d { break }
            if seen.count == features.count { break }
            ring += 1
        }
        guard let best else { throw ComputeError(.invalidInput, "no feature has a position") }
        return Nearest(id: features[best.i].id, distance: best.d, point: best.q)
    }

    /// Distance from a point to a geometry, and the geometry's nearest position.
    static func distance(_ p: Coordinate, _ g: Geometry) -> (Double, Coordinate) {
        var best = (Double.infinity, p)
        func segment(_ a: Coordinate, _ b: Coordinate) {
            let (_, q) = RoadNetwork.project(p, a, b)
            let d = Haversine.distance(p, q)
            if d < best.0 { best = (d, q) }
        }
        func line(_ l: [Coordinate]) {
            if l.count == 1 { segment(l[0], l[0]) }
            for (a, b) in zip(l, l.dropFirst()) { segment(a, b) }
        }
        func polygon(_ rs: [[Coordinate]]) {
            if Planar.contains(rs, p) {
                best = (0, p)
                return
            }
            rs.forEach(line)
        }
        switch g {
        case .point(let q): segment(q, q)
        case .multiPoint(let qs): for q in qs { segment(q, q) }
        case .lineString(let l): line(l)
        case .multiLineString(let ls): ls.forEach(line)
        case .polygon(let rs): polygon(rs)
        case .multiPolygon(let ps): ps.forEach(polygon)
        case .collection(let gs):
            for x in gs {
                let (d, q) = distance(p, x)
                if d < best.0 { best = (d, q) }
            }
        }
        return best
    }
}
