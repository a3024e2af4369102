import CairnCompute
import CairnCore

/// A collection's features by where they are, at one commit: the spatial index that answers a
/// bounding-box query or a map's aggregate at low zoom from memory, then reads only the features
/// it names (by blob id, without the tree). Kept beside the collection's summary, per commit and
/// viewer (see `SummaryCache`), so a path-limited caller's index holds only what it may read.
///
/// A commit changes a few features of many: those go in an overlay beside the packed tree (paths
/// taken out of it, entries added), and the tree is rebuilt only when the overlay has grown to
/// an eighth of it, so a commit costs work in proportion to what it changed.
struct FeatureBoxes: Sendable {
    struct Entry: Sendable {
        let path: String
        let blob: ObjectID
        let box: BoxTree.Box
    }

    /// The entries the tree was built over, in path order.
    private var base: [Entry]
    private var tree: BoxTree
    /// Which entries of `base` are no longer current (removed or changed since), a bit each:
    /// checked for every candidate of a query, so an integer test, not a hash of its path.
    private var removed: [UInt64]
    private var removedCount = 0
    /// Current entries not in `base` (added or changed since), by path.
    private var added: [String: Entry] = [:]

    /// Builds the index over `entries`, which are in path order.
    init(_ entries: [Entry] = []) {
        base = entries
        tree = BoxTree(entries.map(\.box))
        removed = Array(repeating: 0, count: (entries.count + 63) / 64)
    }

    private func isRemoved(_ position: Int) -> Bool { removed[position >> 6] & (1 << UInt64(position & 63)) != 0 }

    /// The position of `path` in `base`, if it is there.
    private func position(of path: String) -> Int? {
        var (low, high) = (0, base.count)
        while low < high {
            let mid = (low + high) / 2
            if base[mid].path < path { low = mid + 1 } else { high = mid }
        }
        return low < base.count && base[low].path == path ? low : nil
    }

    /// Takes a feature out (when its file changed or went).
    mutating func remove(_ path: String) {
        added[path] = nil
        if let p = position(of: path), !isRemoved(p) {
            removed[p >> 6] |= 1 << UInt64(p & 63)
            removedCount += 1
        }
    }

    /// Puts a feature in (after `remove` of its path, when its file changed).
    mutating func add(_ entry: Entry) {
        added[entry.path] = entry
    }

    /// How many features it holds.
    var count: Int { base.count - removedCount + added.count }

    /// Whether the overlay has grown to an eighth of the tree: then `compacted` is worth its cost.
    var needsCompaction: Bool { removedCount + added.count > max(1024, base.count / 8) }

    /// The same features in a new tree, the overlay folded in.
    func compacted() -> FeatureBoxes {
        var entries = base.indices.filter { !isRemoved($0) }.map { base[$0] }
        entries += added.values
        entries.sort { $0.path < $1.path }
        return FeatureBoxes(entries)
    }

    /// Work on an index this large runs on a thread of its own (`Offload`), not on the executor
    /// that serves requests: sorting or counting a million boxes takes a good part of a second.
    static let offloadAbove = 50_000

    /// The features whose boxes meet `bbox` (west, south, east, north in degrees; west east of
    /// east crosses the antimeridian), in path order.
    func matching(_ bbox: [Double]) -> [Entry] {
        var positions: [Int] = []
        visitCurrent(bbox) { p, _ in positions.append(p) }
        positions.sort()
        var out = positions.map { base[$0] }
        if added.isEmpty { return out }
        out += overlay(bbox)
        out.sort { $0.path < $1.path }
        return out
    }

    /// Calls `body` with the position and box of each entry of the tree that meets `bbox` and is
    /// still current, each once (across the antimeridian both halves may find one feature).
    private func visitCurrent(_ bbox: [Double], _ body: (Int, BoxTree.Box) -> Void) {
        let boxes = Self.boxes(bbox)
        var seen = Set<Int>()
        for box in boxes {
            tree.visit(box) { p, b in
                guard removedCount == 0 || !isRemoved(p), boxes.count == 1 || seen.insert(p).inserted else { return }
                body(p, b)
            }
        }
    }

    /// The overlay's entries meeting `bbox`, each once.
    private func overlay(_ bbox: [Double]) -> [Entry] {
        let boxes = Self.boxes(bbox)
        return added.values.filter { e in boxes.contains { e.box.meets($0) } }
    }

    /// How many features meet `bbox` in each cell of a `columns` × `rows` grid laid over it
    /// (a feature counts in the cell holding its box's centre), with the mean centre of each
    /// non-empty cell: what a map draws at low zoom instead of the features.
    func cells(_ bbox: [Double], columns: Int, rows: Int) -> [Cell] {
        let width = Self.width(bbox)
        let height = bbox[3] - bbox[1]
        var counts = [Int](repeating: 0, count: columns * rows)
        var sumX = [Double](repeating: 0, count: columns * rows)
        var sumY = [Double](repeating: 0, count: columns * rows)
        /// The slot of a fraction of the box among `n` (clamped first: a box of no height, or a
        /// coordinate far outside it, must not reach a conversion that traps).
        func slot(_ fraction: Double, _ n: Int) -> Int {
            guard fraction.isFinite else { return 0 }
            return min(n - 1, Int(min(max(fraction, 0), 1) * Double(n)))
        }
        func count(_ b: BoxTree.Box) {
            var x = b.west / 2 + b.east / 2
            let y = b.south / 2 + b.north / 2
            if x < bbox[0] { x += 360 }
            let cell = slot((y - bbox[1]) / height, rows) * columns + slot((x - bbox[0]) / width, columns)
            counts[cell] += 1
            sumX[cell] += x > 180 ? x - 360 : x
            sumY[cell] += y
        }
        visitCurrent(bbox) { _, b in count(b) }
        for entry in overlay(bbox) { count(entry.box) }
        return counts.indices.filter { counts[$0] > 0 }.map { i in
            let n = Double(counts[i])
            return Cell(column: i % columns, row: i / columns, count: counts[i], lon: sumX[i] / n, lat: sumY[i] / n)
        }
    }

    /// One cell of an aggregate: how many features, and where they are on average.
    struct Cell: Sendable {
        let column: Int
        let row: Int
        let count: Int
        let lon: Double
        let lat: Double
    }

    /// The box as one or two boxes that do not cross the antimeridian.
    private static func boxes(_ b: [Double]) -> [BoxTree.Box] {
        if b[0] <= b[2] { return [BoxTree.Box(west: b[0], south: b[1], east: b[2], north: b[3])] }
        return [
            BoxTree.Box(west: b[0], south: b[1], east: 180, north: b[3]),
            BoxTree.Box(west: -180, south: b[1], east: b[2], north: b[3]),
        ]
    }

    private static func width(_ b: [Double]) -> Double { b[0] <= b[2] ? max(b[2] - b[0], 1e-12) : b[2] + 360 - b[0] }
}
