import CairnCore

/// One entry of a prolly tree node: in a leaf, a path and its blob; in an inner node, the
/// largest path of a child subtree and that child's id.
public struct TreeEntry: Sendable, Equatable {
    public var key: [UInt8]
    public var value: ObjectID

    public init(key: [UInt8], value: ObjectID) {
        self.key = key
        self.value = value
    }
}

/// A node of the prolly tree. Level 0 is a leaf.
///
/// The encoding prefix-compresses keys (paths in one node share long prefixes), which keeps a
/// node near 1.3 KB at the average of 32 entries and so keeps a one-file commit small.
public struct TreeNode: Sendable, Equatable {
    public let level: Int
    public let entries: [TreeEntry]

    public init(level: Int, entries: [TreeEntry]) {
        self.level = level
        self.entries = entries
    }

    public static let empty = TreeNode(level: 0, entries: [])

    public var maxKey: [UInt8]? { entries.last?.key }

    /// The canonical bytes hashed into the node's id: the same entries always give the same id.
    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 64 + entries.count * 48)
        w.varint(level)
        w.varint(entries.count)
        var previous: [UInt8] = []
        for e in entries {
            let shared = commonPrefixLength(previous, e.key)
            w.varint(shared)
            w.varint(e.key.count - shared)
            w.raw(e.key[shared...])
            w.id(e.value)
            previous = e.key
        }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(CairnError) {
        var r = ByteReader(bytes)
        do {
            let level = try r.int()
            let count = try r.int()
            guard level < 64, count <= bytes.count else { throw ByteReader.Malformed() }
            var entries: [TreeEntry] = []
            entries.reserveCapacity(count)
            var previous: [UInt8] = []
            for _ in 0..<count {
                let shared = try r.int()
                let suffixCount = try r.int()
                guard shared <= previous.count else { throw ByteReader.Malformed() }
                var key = Array(previous[..<shared])
                key.append(contentsOf: try r.raw(suffixCount))
                let value = try r.id()
                if let last = entries.last, !last.key.lexicographicallyPrecedes(key) { throw ByteReader.Malformed() }
                entries.append(TreeEntry(key: key, value: value))
                previous = key
            }
            guard r.atEnd else { throw ByteReader.Malformed() }
            self.init(level: level, entries: entries)
        } catch {
            throw CairnError(.corrupt, "a tree node does not decode")
        }
    }

    public var id: ObjectID { ObjectID.hash(kind: ObjectKind.tree.rawValue, payload: encoded()) }
}

@inline(__always)
func commonPrefixLength(_ a: [UInt8], _ b: [UInt8]) -> Int {
    let n = min(a.count, b.count)
    var i = 0
    while i < n && a[i] == b[i] { i += 1 }
    return i
}
