import Foundation
import Testing

@testable import CairnCompute

/// Planar measures against shapely (GEOS), and snapping against a brute-force search.
@Suite struct GeometryTests {
    /// Random geometries of every kind around Helsinki, polygons with holes included.
    static func samples(_ rng: inout SplitMix64) -> [[String: Any]] {
        func r(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(rng.next() % 1_000_000) / 1_000_000 }
        func p() -> [Double] { [r(24.8, 25.1), r(60.1, 60.3)] }
        func ring(_ cx: Double, _ cy: Double, _ radius: Double, _ n: Int) -> [[Double]] {
            var pts: [[Double]] = (0..<n).map { i in
                let a = Double(i) / Double(n) * 2 * .pi
                let rr = radius * r(0.6, 1.0)
                return [cx + rr * cos(a), cy + rr * sin(a) * 0.5]
            }
            pts.append(pts[0])
            return pts
        }
        var out: [[String: Any]] = []
        for _ in 0..<10 {
            out.append(["type": "Point", "coordinates": p()])
            out.append(["type": "MultiPoint", "coordinates": (0..<5).map { _ in p() }])
            out.append(["type": "LineString", "coordinates": (0..<6).map { _ in p() }])
            out.append(["type": "MultiLineString", "coordinates": (0..<3).map { _ in (0..<4).map { _ in p() } }])
            let c = p()
            out.append(["type": "Polygon", "coordinates": [ring(c[0], c[1], 0.05, 12), ring(c[0], c[1], 0.01, 6).reversed()]])
            out.append(["type": "MultiPolygon", "coordinates": [[ring(c[0], c[1], 0.02, 8)], [ring(c[0] + 0.1, c[1], 0.03, 9)]]])
            out.append([
                "type": "GeometryCollection",
                "geometries": [["type": "Point", "coordinates": p()], ["type": "LineString", "coordinates": [p(), p()]]],
            ])
        }
        return out
    }

    @Test func centroidsBoundsAndContainmentEqualShapely() throws {
        var rng = SplitMix64(state: 7)
        let geometries = Self.samples(&rng)
        let polygons = geometries.filter { $0["type"] as? String == "Polygon" }
        var probes: [[Any]] = []
        for poly in polygons {
            let outer = (poly["coordinates"] as! [[[Double]]])[0]
            let c = outer[0]
            probes.append([poly, [c[0] - 0.03, c[1]]])  // somewhere inside, or in the hole, or out
            probes.append([poly, [c[0] + 0.5, c[1]]])
        }
        let ref = try RoadGraphTests.reference(script: "shapely_check.py", ["geometries": geometries, "contains": probes])
        let centroids = ref["centroids"] as? [[Double]] ?? []
        let bounds = ref["bounds"] as? [[Double]] ?? []
        #expect(centroids.count == geometries.count)
        for (i, g) in geometries.enumerated() {
            let geometry = try Geometry.parse(g)
            let c = try #require(Planar.centroid(geometry))
            #expect(abs(c.lon - centroids[i][0]) < 1e-9 && abs(c.lat - centroids[i][1]) < 1e-9, "\(g["type"]!): \(c) vs \(centroids[i])")
            let b = try #require(Planar.bbox(geometry))
            // The inputs crossed to Python as JSON text, which keeps about 15 significant digits.
            #expect(
                zip([b.minLon, b.minLat, b.maxLon, b.maxLat], bounds[i]).allSatisfy { abs($0 - $1) < 1e-12 },
                "\([b.minLon, b.minLat, b.maxLon, b.maxLat]) vs \(bounds[i])"
            )
        }
        for (probe, expected) in zip(probes, ref["contains"] as? [Bool] ?? []) {
            guard case .polygon(let rings) = try Geometry.parse(probe[0]) else { continue }
            let xy = probe[1] as! [Double]
            #expect(Planar.contains(rings, Coordinate(lon: xy[0], lat: xy[1])) == expected)
        }
    }

    @Test func snappingFindsTheNearestPointOfAnyRoad() throws {
        let network = try RoadNetwork(roads: RoadGraphTests.helsinki())
        let g = network.graph
        var rng = SplitMix64(state: 11)
        for _ in 0..<40 {
            let p = Coordinate(
                lon: 24.90 + Double(rng.next() % 10_000) / 10_000 * 0.08,
                lat: 60.15 + Double(rng.next() % 10_000) / 10_000 * 0.04
            )
            let snap = try network.snap(p)
            // Brute force over every segment.
            var best = Double.infinity
            for u in 0..<g.nodeCount {
                for e in Int(g.offsets[u])..<Int(g.offsets[u + 1]) {
                    let (_, q) = RoadNetwork.project(p, g.coordinates[u], g.coordinates[g.target(ofEdge: e)])
                    best = min(best, Haversine.distance(p, q))
                }
            }
            #expect(abs(snap.distance - best) < 1e-9, "\(p): \(snap.distance) vs \(best)")
            #expect((0...1).contains(snap.fraction) && !snap.road.isEmpty)
        }
    }

    @Test func nearestFeatureEqualsABruteForceSearch() throws {
        var features = try RoadGraphTests.helsinki().map { FeatureIndex.Feature(id: $0.id, geometry: .lineString($0.coordinates)) }
        features.append(
            FeatureIndex.Feature(
                id: "zone",
                geometry: .polygon([
                    [
                        Coordinate(lon: 24.93, lat: 60.16), Coordinate(lon: 24.94, lat: 60.16), Coordinate(lon: 24.94, lat: 60.17),
                        Coordinate(lon: 24.93, lat: 60.16),
                    ]
                ])
            )
        )
        let index = FeatureIndex(features)
        var rng = SplitMix64(state: 5)
        for _ in 0..<60 {
            let p = Coordinate(
                lon: 24.85 + Double(rng.next() % 10_000) / 10_000 * 0.2,
                lat: 60.12 + Double(rng.next() % 10_000) / 10_000 * 0.1
            )
            let found = try index.nearest(to: p)
            var best = (Double.infinity, "")
            for f in features {
                let d = FeatureIndex.distance(p, f.geometry).0
                if d < best.0 { best = (d, f.id) }
            }
            #expect(found.distance == best.0 && found.id == best.1, "\(p): \(found) vs \(best)")
        }
        // Inside a polygon the distance is 0.
        #expect(try index.nearest(to: Coordinate(lon: 24.938, lat: 60.161)).distance == 0)
        #expect(throws: ComputeError.self) { _ = try FeatureIndex([]).nearest(to: Coordinate(lon: 0, lat: 0)) }
    }

    @Test func routesAndIsochronesThroughPoints() throws {
        let network = try RoadNetwork(roads: RoadGraphTests.helsinki())
        let a = Coordinate(lon: 24.9384, lat: 60.1699)
        let b = Coordinate(lon: 24.9525, lat: 60.1718)
        let c = Coordinate(lon: 24.9458, lat: 60.1650)
        let direct = try network.route(through: [a, b])
        let via = try network.route(through: [a, c, b])
        #expect(direct.length > 0 && via.length >= direct.length - 1e-6)
        // The geometry is the path: its ends lie part-way along segments, whose lengths are taken
        // in proportion (the haversine of the part differs by micrometres).
        #expect(abs(direct.length - Haversine.length(direct.coordinates)) < 1e-3, "the geometry is the path")
        let fast = try network.route(through: [a, b], weight: .time)
        #expect(fast.time <= direct.time + 1e-9 && fast.length >= direct.length - 1e-9)
        let iso = try network.isochrone(from: a, budget: 800)
        #expect(iso.costs.allSatisfy { $0 <= 800 } && iso.nodes.count > 10)
        #expect(iso.hull.first == iso.hull.last && iso.hull.count >= 4)
        // Every reachable node lies inside the hull or on it (within rounding).
        #expect(
            iso.nodes.allSatisfy { n in
                Planar.contains([iso.hull], n) || iso.hull.contains(n)
                    || zip(iso.hull, iso.hull.dropFirst()).contains { RoadNetwork.project(n, $0.0, $0.1).1 == n }
            }
        )
        // Byte-identical answers for the same inputs.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(try encoder.encode(direct) == encoder.encode(try network.route(through: [a, b])))
        #expect(throws: ComputeError.self) { _ = try network.route(through: [a]) }
        #expect(throws: ComputeError.self) { _ = try network.snap(Coordinate(lon: 181, lat: 0)) }
        #expect(throws: ComputeError.self) {
            _ = try Geometry.parse(["type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0.5]]]])
        }
        #expect(throws: ComputeError.self) { _ = try RoadNetwork(roads: []) }
    }
}
