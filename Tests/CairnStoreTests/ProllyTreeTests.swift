import CairnCore
@_spi(StoreWrites) import CairnStore
import Testing

@testable import CairnStore

@Suite struct ProllyTreeTests {
    @Test func nodesAreBoundedAndAOneFileChangeRewritesOnlyItsPath() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        let n = 20_000
        try await p.commit(
            (0..<n).map { .write(path: "d/\($0 / 1000)/\($0).json", content: "{\"i\":\($0)}".bytes) },
            metadata: .test("bulk")
        )
        let root = try await p.show("main").commit.tree
        let reader = TreeReader(storage: store.storage, project: p.record.id, cache: NodeCache())

        // Walk the whole tree: every node within bounds, every leaf entry present once, in order.
        var leaves = 0
        var nodes = 0
        var previous: [UInt8]? = nil
        func walk(_ id: ObjectID) async throws {
            let node = try await reader.node(id)
            nodes += 1
            #expect(node.entries.count <= Chunking.maxEntries)
            #expect(!node.entries.isEmpty)
            for e in node.entries {
                if node.level == 0 {
                    if let previous { #expect(previous.lexicographicallyPrecedes(e.key)) }
                    previous = e.key
                    leaves += 1
                } else {
                    try await walk(e.value)
                }
            }
        }
        try await walk(root)
        #expect(leaves == n)
        let height = try await reader.node(root).level
        #expect(height >= 2, "20k entries at fan-out ~32 need at least three levels")

        var editor = TreeEditor(reader: reader)
        let blob = ObjectID.hash(kind: ObjectKind.blob.rawValue, payload: "{\"i\":\"changed\"}".bytes)
        let changed = try await editor.apply(root: root, edits: [TreeEdit(key: "d/7/7123.json".bytes, value: blob)])
        #expect(changed != root)
        #expect(editor.created.count <= height + 2, "a one-file change rewrites about one node per level, not \(editor.created.count)")
        #expect(
            try await TreeReader(storage: store.storage, project: p.record.id, cache: NodeCache(), overlay: nil).lookup(
                root: root,
                key: "d/7/7123.json".bytes
            ) != blob
        )
    }

    @Test func chunkBoundariesDependOnlyOnKeys() {
        // The boundary rule is part of the format: pin a few values so an accidental change fails here.
        let keys = (0..<2000).map { "k/\($0)".bytes }
        let boundaries = keys.indices.filter { Chunking.isBoundary(keys[$0], level: 0) }
        // Values computed independently (a Python rendering of the same FNV-1a + fmix64 rule).
        #expect(Array(boundaries.prefix(6)) == [37, 74, 83, 97, 102, 123])
        #expect(boundaries.count == 66, "about 1 in 32 keys ends a leaf")
        #expect(
            keys.filter { Chunking.isBoundary($0, level: 0) } != keys.filter { Chunking.isBoundary($0, level: 1) },
            "levels use different seeds"
        )
    }
}
