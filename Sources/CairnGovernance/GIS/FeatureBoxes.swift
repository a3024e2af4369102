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
    /// Paths of `base` whose entry is no longer current (removed or changed since).
    private var removed: Set<String> = []
    /// Current entries not in `base` (added or changed since), by path.
    private var added: [String: Entry] = [:]

    /// Builds the index over `entries`, which are in path order.
    init(_ entries: [Entry] = []) {
        base = entries
        tree = BoxTree(entries.map(\.box))
    }

    /// Takes a feature out (when its file changed or went).
    mutating func remove(_ path: String) {
        removed.insert(path)
        added[path] = nil
    }

    /// Puts a feature in (after `remove` of its path, when its file changed).
    mutating func add(_ entry: Entry) {
        added[entry.path] = entry
        if removed.count + added.count > max(1024, base.count / 8) { compact() }
    }

    /// Folds the overlay into a new tree.
    private mutating func compact() {
        var entries = base.filter { !removed.contains($0.path) }
        entries += added.values
        entries.sort { $0.path < $1.path }
        self = FeatureBoxes(entries)
    }

    /// The features whose boxes meet `bbox` (west, south, east, north in degrees; west east of
    /// east crosses the antimeridian), in path order.
    func matching(_ bbox: [Double]) -> [Entry] {
        var out = current(bbox, sorted: true)
        if added.isEmpty { return out }
        out += overlay(bbox)
        out.sort { $0.path < $1.path }
        return out
    }

    /// The entries of the tree meeting `bbox` that are still current, each once (in path order
    /// when asked: the tree gives them in its own order).
    private func current(_ bbox: [Double], sorted: Bool) -> [Entry] {
        let boxes = Self.boxes(bbox)
        var positions = tree.search(boxes[0])
        if boxes.count > 1 {
            positions += tree.search(boxes[1])
            positions = Array(Set(positions))
        }
        if sorted { positions.sort() }
        var out: [Entry] = []
        out.reserveCapacity(positions.count)
        for p in positions where removed.isEmpty || !removed.contains(base[p].path) { out.append(base[p]) }
        return out
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
        /// The slot of a fraction of the box among `n` (clamped first: a box of no height, or a
        /// coordinate far outside it, must not reach a conversion that traps).
        func slot(_ fraction: Double, _ n: Int) -> Int {
            guard fraction.isFinite else { return 0 }
            return min(n - 1, Int(min(max(fraction, 0), 1) * Double(n)))
        }
        var cells: [Int: Cell] = [:]
        for entry in current(bbox, sorted: false) + overlay(bbox) {
            var x = (entry.box.west + entry.box.east) / 2
            let y = (entry.box.south + entry.box.north) / 2
            if x < bbox[0] { x += 360 }
            let column = slot((x - bbox[0]) / width, columns)
            let row = slot((y - bbox[1]) / height, rows)
            let key = row * columns + column
            cells[key, default: Cell(column: column, row: row)].add(x > 180 ? x - 360 : x, y)
        }
        return cells.keys.sorted().map { cells[$0]! }
    }

    /// One cell of an aggregate: how many features, and where they are on average.
    struct Cell: Sendable {
        let column: Int
        let row: Int
        private(set) var count = 0
        private var sumX = 0.0
        private var sumY = 0.0
        init(column: Int, row: Int) { (self.column, self.row) = (column, row) }
        mutating func add(_ x: Double, _ y: Double) {
            count += 1
            sumX += x
            sumY += y
        }
        var center: (lon: Double, lat: Double) { (sumX / Double(count), sumY / Double(count)) }
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
