import CairnCore
@_spi(StoreWrites) import CairnStore
import Testing

/// A small seeded generator, so a failing property run can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The store against an in-memory model: a dictionary of path to content.
@Suite struct PropertyTests {
    static let seeds: [UInt64] = [1, 42, 2026]

    static func randomPath(_ rng: inout SplitMix64) -> String {
        let dirs = ["roads", "poles", "ducts/north", "ducts/south", "sites"]
        return "\(dirs.randomElement(using: &rng)!)/\(Int.random(in: 0..<6000, using: &rng)).json"
    }

    @Test(arguments: seeds)
    func sameFilesGiveSameRootWhateverTheOrder(seed: UInt64) async throws {
        var rng = SplitMix64(state: seed)
        var final: [String: String] = [:]
        for _ in 0..<3000 { final[Self.randomPath(&rng)] = "{\"v\":\(Int.random(in: 0..<1000, using: &rng))}" }
        let store = try await TestStore()
        // A: everything in one commit.
        let a = try await store.makeProject("a")
        try await a.commit(final.sorted { $0.key < $1.key }.map { .write(path: $0.key, content: $0.value.bytes) }, metadata: .test("all"))
        // B: shuffled small batches, with noise files written and deleted again, and values overwritten.
        let b = try await store.makeProject("b")
        var ops: [FileChange] = final.map { .write(path: $0.key, content: "{\"old\":true}".bytes) }
        ops += (0..<300).map { .write(path: "noise/\($0).json", content: "{}".bytes) }
        ops.shuffle(using: &rng)
        ops += final.map { .write(path: $0.key, content: $0.value.bytes) }.shuffled(using: &rng)
        ops.append(.delete("noise/**"))
        var i = 0
        while i < ops.count {
            let n = Int.random(in: 1...400, using: &rng)
            try await b.commit(Array(ops[i..<min(ops.count, i + n)]), metadata: .test("batch"))
            i += n
        }
        let ta = try await a.show("main").commit.tree
        let tb = try await b.show("main").commit.tree
        #expect(ta == tb, "history independence: same content, same root")
        #expect(try await b.glob("**", limit: 10_000).paths == final.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        // Deleting everything gives the empty tree again.
        try await b.delete("**", metadata: .test("clear"))
        let c = try await store.makeProject("c")
        #expect(try await b.show("main").commit.tree == c.show("main").commit.tree)
    }

    @Test(arguments: seeds)
    func diffAppliedToAGivesBAndEveryCommitReadsBack(seed: UInt64) async throws {
        var rng = SplitMix64(state: seed)
        let store = try await TestStore()
        let p = try await store.makeProject()
        var model: [String: String] = [:]
        // Start with a tree deep enough to have several levels.
        var initial: [FileChange] = []
        for k in 0..<5000 {
            let path = "base/\(k).json"
            model[path] = "{\"k\":\(k)}"
            initial.append(.write(path: path, content: model[path]!.bytes))
        }
        var snapshots: [(ObjectID, [String: String])] = []
        snapshots.append((try await p.commit(initial, metadata: .test("base")).head, model))
        for step in 0..<25 {
            var changes: [FileChange] = []
            var touched = Set<String>()
            for _ in 0..<Int.random(in: 1...60, using: &rng) {
                let existing = model.keys.randomElement(using: &rng)!
                let path = Bool.random(using: &rng) ? Self.randomPath(&rng) : existing
                guard touched.insert(path).inserted else { continue }
                if model[path] != nil && Int.random(in: 0..<4, using: &rng) == 0 {
                    changes.append(.delete(path))
                    model[path] = nil
                } else {
                    let v = "{\"step\":\(step),\"r\":\(Int.random(in: 0..<99, using: &rng))}"
                    changes.append(.write(path: path, content: v.bytes))
                    model[path] = v
                }
            }
            let out = try await p.commit(changes, metadata: .test("step \(step)"))
            snapshots.append((out.head, model))
        }
        // Reading as of every recorded commit returns exactly what was written then.
        for (commit, snapshot) in snapshots {
            var paths: [String] = []
            var cursor: String? = nil
            repeat {
                let page = try await p.glob("**", at: commit.hex, limit: 4000, after: cursor)
                paths += page.paths
                cursor = page.next
            } while cursor != nil
            #expect(Set(paths) == Set(snapshot.keys))
            for path in snapshot.keys.shuffled(using: &rng).prefix(20) {
                #expect(try await p.read(path, at: commit.hex).lines == [snapshot[path]!])
            }
        }
        // diff(a, b) applied to a gives b.
        for _ in 0..<6 {
            let (a, _) = snapshots.randomElement(using: &rng)!
            let (b, modelB) = snapshots.randomElement(using: &rng)!
            let diff = try await p.diff(from: a.hex, to: b.hex, json: false, limit: 100_000)
            let branch = "replay-\(a.short)-\(b.short)-\(Int.random(in: 0..<1_000_000, using: &rng))"
            try await p.createBranch(branch, from: a.hex, principal: "t")
            var changes: [FileChange] = []
            for f in diff.files {
                if f.change == .deleted {
                    changes.append(.delete(f.path))
                } else {
                    changes.append(.write(path: f.path, content: modelB[f.path]!.bytes))
                }
            }
            if !changes.isEmpty { try await p.commit(changes, branch: branch, metadata: .test("replay")) }
            let replayed = try await p.show(branch).commit.tree
            let target = try await p.show(b.hex).commit.tree
            #expect(replayed == target)
        }
    }
}
