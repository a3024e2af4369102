import Foundation
import Testing

@testable import CairnCompute

/// Geodesics against geographiclib and pyproj (from PyPI, in the test virtualenv): distances on
/// the WGS84 ellipsoid, haversine against its formula, and geodesic polygon areas.
@Suite struct GeodesicTests {
    /// Pairs of every kind: random over the globe, short ones in Helsinki, nearly antipodal,
    /// on one meridian, along the equator, at the poles, across the antimeridian, coincident.
    static func pairs() -> [[Double]] {
        var rng = SplitMix64(state: 2026)
        func r(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(rng.next() % 1_000_000_007) / 1_000_000_007 }
        var out: [[Double]] = []
        for _ in 0..<600 { out.append([r(-180, 180), r(-90, 90), r(-180, 180), r(-90, 90)]) }
        for _ in 0..<300 {
            let lon = r(24.8, 25.2)
            let lat = r(60.1, 60.3)
            out.append([lon, lat, lon + r(-0.01, 0.01), lat + r(-0.01, 0.01)])
        }
        for _ in 0..<200 {
            let lon = r(-180, 180)
            let lat = r(-89, 89)
            out.append(
                [lon, lat, lon + 180 + r(-0.5, 0.5), -lat + r(-0.5, 0.5)].enumerated().map {
                    $0.offset == 2 ? ($0.element > 180 ? $0.element - 360 : $0.element) : $0.element
                }
            )
        }
        for _ in 0..<50 {
            let lon = r(-180, 180)
            out.append([lon, r(-90, 90), lon, r(-90, 90)])
            out.append([r(-180, 180), 0, r(-180, 180), 0])
            out.append([r(-180, 180), 90, r(-180, 180), r(-90, 90)])
            out.append([179.9 + r(0, 0.1), r(-60, 60), -179.9 - r(0, 0.1), r(-60, 60)])
        }
        out += [
            [0, 0, 0, 0], [24.9, 60.2, 24.9, 60.2], [0, 0, 180, 0], [0, 0, 179.5, 0.5], [0, 90, 0, -90], [10, 0, -170, 0],
            [-0.1, 0, 179.9, 0],
        ]
        return out
    }

    /// Polygons: small ones in Helsinki (with a hole), a country-sized one, one across the
    /// antimeridian, a large continental one, and one clockwise (GeoJSON's outer rings run
    /// counter-clockwise, but a hand-made file may not).
    static func polygons() -> [[String: Any]] {
        func box(_ w: Double, _ s: Double, _ e: Double, _ n: Double) -> [[Double]] { [[w, s], [e, s], [e, n], [w, n], [w, s]] }
        var rng = SplitMix64(state: 11)
        func r(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(rng.next() % 1_000_000) / 1_000_000 }
        var out: [[String: Any]] = []
        for _ in 0..<20 {
            let cx = r(24.8, 25.1)
            let cy = r(60.1, 60.3)
            var ring: [[Double]] = (0..<10).map { i in
                let a = Double(i) / 10 * 2 * .pi
                let rr = 0.01 * r(0.6, 1)
                return [cx + rr * cos(a), cy + rr * sin(a) * 0.5]
            }
            ring.append(ring[0])
            out.append(["type": "Polygon", "coordinates": [ring, Array(box(cx - 0.001, cy - 0.0005, cx + 0.001, cy + 0.0005).reversed())]])
        }
        out.append(["type": "Polygon", "coordinates": [[[20.6, 59.8], [31.5, 62.9], [29.0, 69.0], [21.0, 69.1], [20.6, 59.8]]]])
        out.append(["type": "Polygon", "coordinates": [box(179, -17, 181, -16).map { [$0[0] > 180 ? $0[0] - 360 : $0[0], $0[1]] }]])
        out.append(["type": "Polygon", "coordinates": [box(-120, 20, -70, 50)]])
        out.append(["type": "Polygon", "coordinates": [Array(box(24, 60, 25, 61).reversed())]])
        return out
    }

    @Test func distancesAndAreasEqualGeographiclibAndPyproj() throws {
        let pairs = Self.pairs()
        let polygons = Self.polygons()
        let ref = try RoadGraphTests.reference(script: "geodesic_check.py", ["pairs": pairs, "polygons": polygons])
        let geodesic = ref["geodesic"] as? [Double] ?? []
        let haversine = ref["haversine"] as? [Double] ?? []
        let azimuths = ref["azimuths"] as? [[Double]] ?? []
        #expect(geodesic.count == pairs.count && haversine.count == pairs.count)
        var worst = 0.0
        for (i, p) in pairs.enumerated() where i < geodesic.count {
            let a = Coordinate(lon: p[0], lat: p[1])
            let b = Coordinate(lon: p[2], lat: p[3])
            let inverse = Geodesic.wgs84.inverse(a, b)
            let error = abs(inverse.distance - geodesic[i]) / max(geodesic[i], 1)
            worst = max(worst, error)
            #expect(error < 1e-9, "geodesic \(p): \(inverse.distance) vs \(geodesic[i])")
            let h = Haversine.distance(a, b)
            #expect(abs(h - haversine[i]) <= 1e-9 * max(haversine[i], 1), "haversine \(p): \(h) vs \(haversine[i])")
            // Azimuths are defined (and compared) away from the poles and coincident points.
            if geodesic[i] > 1, abs(p[1]) < 89.9, abs(p[3]) < 89.9, abs(geodesic[i] - 20_003_931) > 1000 {
                let d1 = abs(Angle.normalize(inverse.azimuth1 - azimuths[i][0]))
                let d2 = abs(Angle.normalize(inverse.azimuth2 - azimuths[i][1]))
                #expect(d1 < 1e-7 && d2 < 1e-7, "azimuths \(p): \(inverse.azimuth1), \(inverse.azimuth2) vs \(azimuths[i])")
            }
        }
        let pyproj = ref["pyproj"] as? [[Double]] ?? []
        let lib = ref["geographiclib"] as? [[Double]] ?? []
        #expect(pyproj.count == polygons.count && lib.count == polygons.count)
        for (i, poly) in polygons.enumerated() where i < pyproj.count {
            let area = Geodesic.wgs84.area(try Geometry.parse(poly))
            #expect(abs(area - pyproj[i][0]) <= 1e-9 * pyproj[i][0], "area \(i): \(area) vs pyproj \(pyproj[i][0])")
            #expect(abs(area - lib[i][0]) <= 1e-9 * lib[i][0], "area \(i): \(area) vs geographiclib \(lib[i][0])")
        }
        // A test that could not fail would prove nothing: the error must be measurable, not skipped.
        #expect(worst < 1e-9 && geodesic.count > 1000)
    }

    @Test func knownValues() {
        // One degree of longitude on the equator is a·π/180 on the ellipsoid.
        let d = Geodesic.wgs84.distance(Coordinate(lon: 0, lat: 0), Coordinate(lon: 1, lat: 0))
        #expect(abs(d - 6_378_137 * .pi / 180) < 1e-6)
        // Pole to pole along a meridian: twice the quarter meridian, 10,001,965.729 m.
        let m = Geodesic.wgs84.distance(Coordinate(lon: 0, lat: -90), Coordinate(lon: 0, lat: 90))
        #expect(abs(m - 2 * 10_001_965.729_31) < 1e-3)
        // A ring around nothing has no area; a closed ring and its open form agree.
        let open = [Coordinate(lon: 24, lat: 60), Coordinate(lon: 25, lat: 60), Coordinate(lon: 25, lat: 61)]
        #expect(Geodesic.wgs84.ring(open).area == Geodesic.wgs84.ring(open + [open[0]]).area)
        #expect(Geodesic.wgs84.ring(open).area > 0)
        #expect(Geodesic.wgs84.ring(open.reversed()).area < 0)
    }
}
