import Testing

@testable import CairnCompute

/// The packed R-tree against a linear scan: for random boxes of every size (points, small
/// segments, boxes spanning much of the extent), every query finds exactly the boxes meeting it.
@Suite struct BoxTreeTests {
    static func box(_ rng: inout SplitMix64, span: Double) -> BoxTree.Box {
        func r(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(rng.next() % 1_000_000) / 1_000_000 }
        let (x, y) = (r(24.5, 25.5), r(60.0, 60.5))
        let (w, h) = (r(0, span), r(0, span))
        return BoxTree.Box(west: x, south: y, east: x + w, north: y + h)
    }

    @Test(
        "every query finds exactly the boxes a linear scan finds, for trees of 0 to 20,000 boxes",
        arguments: [0, 1, 15, 16, 17, 300, 20_000]
    )
    func matchesALinearScan(count: Int) {
        var rng = SplitMix64(state: UInt64(count) + 7)
        let items = (0..<count).map { i in Self.box(&rng, span: i % 50 == 0 ? 0.3 : (i % 3 == 0 ? 0 : 0.002)) }
        let tree = BoxTree(items)
        #expect(tree.count == count)
        for q in 0..<200 {
            let query = Self.box(&rng, span: q % 10 == 0 ? 1.0 : 0.02)
            let expected = items.indices.filter { items[$0].meets(query) }
            #expect(tree.search(query).sorted() == expected)
        }
        // Boxes that touch only at an edge meet; the whole extent finds everything.
        let all = BoxTree.Box(west: -180, south: -90, east: 180, north: 90)
        #expect(tree.search(all).sorted() == Array(items.indices))
        if let first = items.first {
            let touching = BoxTree.Box(west: first.east, south: first.north, east: first.east + 1, north: first.north + 1)
            #expect(tree.search(touching).contains(0))
        }
    }

    @Test("boxes all at one point (an extent of zero width) are found")
    func degenerateExtent() {
        let items = Array(repeating: BoxTree.Box(west: 25, south: 60, east: 25, north: 60), count: 100)
        let tree = BoxTree(items)
        #expect(tree.search(BoxTree.Box(west: 24.9, south: 59.9, east: 25, north: 60)).count == 100)
        #expect(tree.search(BoxTree.Box(west: 25.1, south: 59.9, east: 25.2, north: 60)).isEmpty)
    }

    @Test("coordinates at the ends of what a Double holds (an extent of infinite width) build and are found")
    func extremeCoordinates() {
        let items = [
            BoxTree.Box(west: 1e308, south: 0, east: 1e308, north: 0), BoxTree.Box(west: -1e308, south: -1e308, east: -1e308, north: 1e308),
            BoxTree.Box(west: 25, south: 60, east: 25, north: 60),
        ]
        let tree = BoxTree(items)
        #expect(tree.search(BoxTree.Box(west: 24, south: 59, east: 26, north: 61)) == [2])
        #expect(tree.search(BoxTree.Box(west: -.infinity, south: -.infinity, east: .infinity, north: .infinity)).sorted() == [0, 1, 2])
    }
}
