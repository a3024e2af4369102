import CairnCore
@_spi(StoreWrites) import CairnStore
import Foundation
import Testing

/// Against a model: random non-overlapping changes on two branches (whole files added, changed
/// and deleted; members of shared JSON files changed on one side each) merge to exactly the
/// result of applying both sets of changes.
@Suite struct BranchMergePropertyTests {
    @Test(arguments: 0..<25)
    func nonOverlappingBranchChangesMergeToBothApplied(seed: Int) async throws {
        var rng = SplitMix64(state: UInt64(seed) &* 0xA24B_AED4_963E_E407 &+ 7)
        let store = try await TestStore()
        let p = try await store.makeProject()
        // The model: path → object of string members.
        var base: [String: [String: String]] = [:]
        for i in 0..<30 {
            base["f/\(i).json"] = Dictionary(uniqueKeysWithValues: (0..<4).map { ("k\($0)", "v\(Int.random(in: 0..<9, using: &rng))") })
        }
        func encode(_ o: [String: String]) -> [UInt8] { Array((try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]))) }
        _ = try await p.commit(base.map { .write(path: $0.key, content: encode($0.value)) }, metadata: .test("base"))
        try await p.createBranch("theirs", from: "main", principal: "tester")

        // Each site (a whole file, or one member of one file) belongs to at most one side.
        var claimed: Set<String> = []
        func side(_ name: String) -> (changes: [FileChange], model: (inout [String: [String: String]]) -> Void) {
            var state = base
            var changes: [FileChange] = []
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let i = Int.random(in: 0..<34, using: &rng)
                let path = "f/\(i).json"
                switch Int.random(in: 0..<3, using: &rng) {
                case 0 where i >= 30:  // a new file, owned whole
                    guard !claimed.contains(path) else { continue }
                    claimed.insert(path)
                    state[path] = ["new": name]
                case 1 where i < 30:  // delete a file, owned whole
                    guard !claimed.contains(path), !claimed.contains(where: { $0.hasPrefix(path + "#") }) else { continue }
                    claimed.insert(path)
                    state[path] = nil
                default:  // change one member of a shared file
                    guard i < 30, !claimed.contains(path) else { continue }
                    let key = "k\(Int.random(in: 0..<4, using: &rng))"
                    let site = path + "#" + key
                    guard !claimed.contains(site) else { continue }
                    claimed.insert(site)
                    state[path]?[key] = "\(name)-\(Int.random(in: 0..<9, using: &rng))"
                }
            }
            var touched: Set<String> = []
            for (path, value) in state where base[path] != value { touched.insert(path) }
            for path in base.keys where state[path] == nil { touched.insert(path) }
            for path in touched.sorted() {
                changes.append(state[path].map { .write(path: path, content: encode($0)) } ?? .delete(path))
            }
            let final = state
            return (
                changes,
                { model in
                    for path in touched {
                        if let v = final[path] {
                            if let b = base[path], var m = model[path] {
                                for (k, x) in v where b[k] != x { m[k] = x }
                                model[path] = m
                            } else {
                                model[path] = v
                            }
                        } else {
                            model[path] = nil
                        }
                    }
                }
            )
        }
        let ours = side("ours")
        let theirs = side("theirs")
        if !ours.changes.isEmpty { _ = try await p.commit(ours.changes, metadata: .test("ours")) }
        if !theirs.changes.isEmpty { _ = try await p.commit(theirs.changes, branch: "theirs", metadata: .test("theirs")) }
        var expected = base
        ours.model(&expected)
        theirs.model(&expected)

        let outcome = try await p.merge(source: "theirs", into: "main", metadata: .test("merge"))
        guard case .merged = outcome else {
            Issue.record("seed \(seed): non-overlapping changes conflicted: \(outcome)")
            return
        }
        var actual: [String: [String: String]] = [:]
        for path in try await p.glob("f/*.json", at: "main", limit: 1000).paths {
            actual[path] = try JSONSerialization.jsonObject(with: Data(try await p.readBytes(path, at: "main").2)) as? [String: String]
        }
        #expect(actual == expected, "seed \(seed)")
    }
}
