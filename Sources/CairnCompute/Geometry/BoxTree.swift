/// A static R-tree over bounding boxes, packed in Hilbert order: the spatial index that answers
/// "which features meet this box" without looking at every feature. Written here because no
/// well-kept Swift library offers a spatial index (the C ones of the field, GEOS's STRtree and
/// libspatialindex, are C++ APIs a system library target cannot import).
///
/// Packing in Hilbert order keeps boxes that are near each other in the same nodes, so a query
/// visits few nodes; a tree is built in one sort and never changed (the owner of a changing set
/// keeps a small overlay beside it and rebuilds when the overlay grows).
public struct BoxTree: Sendable {
    /// A box in degrees: west, south, east, north.
    public struct Box: Sendable, Equatable {
        public var west: Double
        public var south: Double
        public var east: Double
        public var north: Double
        public init(west: Double, south: Double, east: Double, north: Double) {
            (self.west, self.south, self.east, self.north) = (west, south, east, north)
        }
        public func meets(_ b: Box) -> Bool { west <= b.east && east >= b.west && south <= b.north && north >= b.south }
        public func contains(_ b: Box) -> Bool { west <= b.west && east >= b.east && south <= b.south && north >= b.north }
        public func union(_ b: Box) -> Box {
            Box(west: min(west, b.west), south: min(south, b.south), east: max(east, b.east), north: max(north, b.north))
        }
    }

    /// Children per node: 16 keeps a node's boxes in a few cache lines and the tree shallow.
    static let nodeSize = 16

    /// Boxes of every node, leaves (the items, in Hilbert order) first, then each level up.
    private let boxes: [Box]
    /// For a leaf: the item's position in the input. For an inner node: its first child's slot.
    private let slots: [Int32]
    /// Where each level ends in `boxes` (the last is the root's level).
    private let levels: [Int]
    public let count: Int

    /// Builds the tree over `items` (their positions in this array are what queries return).
    public init(_ items: [Box]) {
        count = items.count
        guard !items.isEmpty else {
            (boxes, slots, levels) = ([], [], [])
            return
        }
        let extent = items.dropFirst().reduce(items[0]) { $0.union($1) }
        let width = max(extent.east - extent.west, .leastNonzeroMagnitude)
        let height = max(extent.north - extent.south, .leastNonzeroMagnitude)
        /// A centre's place on the curve's 2¹⁶ grid, clamped: coordinates may be anything a JSON
        /// file holds (1e308 and -1e308 make an extent of infinite width), and a conversion of a
        /// value out of range would trap.
        func grid(_ offset: Double, _ size: Double) -> UInt32 {
            let fraction = offset / size
            guard fraction.isFinite else { return 0 }
            return UInt32(min(max(fraction, 0), 1) * Double(UInt16.max))
        }
        let keys: [UInt32] = items.map { b in
            Self.hilbert(grid(b.west / 2 + b.east / 2 - extent.west, width), grid(b.south / 2 + b.north / 2 - extent.south, height))
        }
        let order = (0..<items.count).sorted { keys[$0] < keys[$1] }
        var boxes = order.map { items[$0] }
        var slots = order.map { Int32($0) }
        var levels = [boxes.count]
        var start = 0
        // Each level's nodes cover `nodeSize` consecutive nodes of the level below.
        while levels.last! - start > 1 {
            let end = levels.last!
            var i = start
            while i < end {
                let last = min(i + Self.nodeSize, end)
                var box = boxes[i]
                for j in (i + 1)..<last { box = box.union(boxes[j]) }
                boxes.append(box)
                slots.append(Int32(i))
                i = last
            }
            start = end
            levels.append(boxes.count)
        }
        (self.boxes, self.slots, self.levels) = (boxes, slots, levels)
    }

    /// The input positions of the items whose boxes meet `box`, in no particular order.
    public func search(_ box: Box) -> [Int] {
        var found: [Int] = []
        visit(box) { position, _ in found.append(position) }
        return found
    }

    /// Calls `body` with the input position and box of each item meeting `box`, in the tree's
    /// order. A node wholly inside `box` hands over its items without testing them: they are a
    /// run of consecutive leaves, so a query covering most of the tree costs little more than a
    /// walk over the leaves.
    public func visit(_ box: Box, _ body: (Int, Box) -> Void) {
        guard let root = boxes.indices.last else { return }
        var stack: [(node: Int, level: Int)] = [(root, levels.count - 1)]
        while let (node, level) = stack.popLast() {
            let b = boxes[node]
            guard b.meets(box) else { continue }
            if level == 0 {
                body(Int(slots[node]), b)
            } else if box.contains(b) {
                for leaf in leaves(node, level) { body(Int(slots[leaf]), boxes[leaf]) }
            } else {
                let first = Int(slots[node])
                for child in first..<min(first + Self.nodeSize, levels[level - 1]) { stack.append((child, level - 1)) }
            }
        }
    }

    /// The leaves under a node: a run of consecutive slots, from its first descendant's to its last's.
    private func leaves(_ node: Int, _ level: Int) -> Range<Int> {
        var (low, high, l) = (node, node, level)
        while l > 0 {
            low = Int(slots[low])
            high = min(Int(slots[high]) + Self.nodeSize, levels[l - 1]) - 1
            l -= 1
        }
        return low..<(high + 1)
    }

    /// The position of (x, y) along a Hilbert curve over a 2¹⁶ × 2¹⁶ grid.
    static func hilbert(_ x0: UInt32, _ y0: UInt32) -> UInt32 {
        var (x, y, d) = (x0, y0, UInt32(0))
        var s = UInt32(1) << 15
        while s > 0 {
            let rx: UInt32 = (x & s) > 0 ? 1 : 0
            let ry: UInt32 = (y & s) > 0 ? 1 : 0
            d += s &* s &* ((3 &* rx) ^ ry)
            if ry == 0 {
                if rx == 1 {
                    x = 0xFFFF &- x
                    y = 0xFFFF &- y
                }
                swap(&x, &y)
            }
            s >>= 1
        }
        return d
    }
}
