import CairnCore
@_spi(StoreWrites) import CairnStore
import Testing

@Suite struct ConcurrencyTests {
    @Test func concurrentWritersOnDisjointPathsAllCommitInSharedTransactions() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        let writers = 32
        try await withThrowingTaskGroup(of: CommitOutcome.self) { group in
            for i in 0..<writers {
                group.addTask { try await p.write("w/\(i).txt", "writer \(i)".bytes, metadata: .test("writer \(i)")) }
            }
            for try await outcome in group { #expect(outcome.didChange) }
        }
        #expect(try await p.glob("w/*").paths.count == writers)
        #expect(try await p.log(limit: 100).commits.count == writers + 1)
        let stats = await p.commitStats()
        #expect(stats.requests == writers)
        #expect(stats.transactions < writers, "group commit should put several commits in one transaction")
        #expect(try await p.verify().ok)
    }

    @Test func staleChangeToTheSamePathIsAConflictButOtherPathsRebase() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        let base = try await p.write("a.txt", "a0".bytes, metadata: .test("a0")).head
        try await p.write("a.txt", "a1".bytes, metadata: .test("a1 by someone else"))
        await expectError(.conflict) {
            try await p.commit([.write(path: "a.txt", content: "mine".bytes)], basedOn: base, metadata: .test("stale"))
        }
        #expect(try await p.read("a.txt").lines == ["a1"], "the other writer's update is not lost")
        let rebased = try await p.commit([.write(path: "b.txt", content: "b".bytes)], basedOn: base, metadata: .test("disjoint"))
        #expect(rebased.didChange)
        #expect(try await p.read("a.txt").lines == ["a1"])
        #expect(try await p.read("b.txt").lines == ["b"])
    }

    @Test func readModifyWriteUnderContentionLosesNoUpdate() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        try await p.write("counter.txt", "0".bytes, metadata: .test("zero"))
        let tasks = 16
        let successes = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    var won = 0
                    for _ in 0..<3 {
                        let seen = try await p.read("counter.txt")
                        let n = Int(seen.lines[0])!
                        do {
                            try await p.commit(
                                [.write(path: "counter.txt", content: "\(n + 1)".bytes)],
                                basedOn: seen.commit,
                                metadata: .test("inc")
                            )
                            won += 1
                        } catch let e as CairnError where e.code == .conflict {}
                    }
                    return won
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(successes >= 1)
        #expect(try await p.read("counter.txt").lines == ["\(successes)"], "every acknowledged increment is in the final value")
    }
}
