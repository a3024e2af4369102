import CairnCore

/// Where prolly tree nodes end. Part of the storage format: changing anything here changes every root id.
///
/// A node ends after an entry whose key hashes (with the level as seed) to a value divisible by
/// the target fan-out, or when it reaches `maxEntries`. Both rules depend only on the sorted
/// sequence of keys, so the same set of paths always gives the same tree, whatever the order
/// of the edits that produced it (history independence).
enum Chunking {
    static let targetFanout: UInt64 = 32
    static let maxEntries = 256

    @inline(__always)
    static func isBoundary(_ key: [UInt8], level: Int) -> Bool {
        // FNV-1a, then the murmur3 finalizer to spread FNV's weak low bits. Chosen for being
        // tiny and fully specified, since this function is frozen into the format.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (UInt64(level &+ 1) &* 0x9E37_79B9_7F4A_7C15)
        for b in key {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h % targetFanout == 0
    }
}

/// Cuts a sorted stream of entries into nodes of one level.
struct Chunker {
    let level: Int
    private(set) var pending: [TreeEntry] = []
    private(set) var nodes: [TreeNode] = []

    init(level: Int) { self.level = level }

    mutating func append(_ entry: TreeEntry) {
        pending.append(entry)
        if pending.count >= Chunking.maxEntries || Chunking.isBoundary(entry.key, level: level) {
            nodes.append(TreeNode(level: level, entries: pending))
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// Ends the level: whatever is pending becomes its last node.
    mutating func finish() {
        if !pending.isEmpty {
            nodes.append(TreeNode(level: level, entries: pending))
            pending.removeAll()
        }
    }

    /// Feeds the merge of `entries` (sorted) and `edits` (sorted; `nil` deletes).
    mutating func merge(_ entries: [TreeEntry], _ edits: ArraySlice<TreeEdit>) {
        var i = entries.startIndex
        var j = edits.startIndex
        while i < entries.endIndex || j < edits.endIndex {
            if j == edits.endIndex {
                append(entries[i])
                i += 1
            } else if i == entries.endIndex {
                if let v = edits[j].value { append(TreeEntry(key: edits[j].key, value: v)) }
                j += 1
            } else if entries[i].key == edits[j].key {
                if let v = edits[j].value { append(TreeEntry(key: edits[j].key, value: v)) }
                i += 1
                j += 1
            } else if entries[i].key.lexicographicallyPrecedes(edits[j].key) {
                append(entries[i])
                i += 1
            } else {
                if let v = edits[j].value { append(TreeEntry(key: edits[j].key, value: v)) }
                j += 1
            }
        }
    }
}

/// Set `key` to `value`, or remove it when `value` is nil.
public struct TreeEdit: Sendable, Equatable {
    public var key: [UInt8]
    public var value: ObjectID?

    public init(key: [UInt8], value: ObjectID?) {
        self.key = key
        self.value = value
    }
}

@inline(__always)
func lowerBound(_ entries: [TreeEntry], _ key: [UInt8]) -> Int {
    var lo = 0
    var hi = entries.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if entries[mid].key.lexicographicallyPrecedes(key) { lo = mid + 1 } else { hi = mid }
    }
    return lo
}
