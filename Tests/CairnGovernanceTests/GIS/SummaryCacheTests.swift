import CairnCompute
import CairnCore
import Testing

@testable import CairnGovernance

/// The cache of collection snapshots keeps memory bounded by the features its spatial indexes
/// hold, not only by its number of keys: many path-limited callers, each with indexes of their
/// own, cannot make the server hold more than the budget.
@Suite struct SummaryCacheTests {
    static func snapshot(features: Int) -> CollectionSnapshot {
        let entries = (0..<features).map { i in
            FeatureBoxes.Entry(
                path: "f/\(i).json",
                blob: ObjectID(w0: UInt64(i), w1: 0, w2: 0, w3: 0),
                box: BoxTree.Box(west: Double(i), south: 0, east: Double(i), north: 0)
            )
        }
        return CollectionSnapshot(summary: FeatureSummary(), boxes: FeatureBoxes(entries))
    }

    static func key(_ viewer: String) -> SummaryCache.Key {
        SummaryCache.Key(organization: 1, project: "p", collection: "c", glob: "c/**", viewer: viewer)
    }

    actor Counter {
        var computed: [String] = []
        func add(_ s: String) { computed.append(s) }
    }

    @Test("over the budget, the least recently used key is dropped (and computed again when asked), never the one just computed")
    func dropsTheLeastRecentlyUsedOverTheBudget() async throws {
        let cache = SummaryCache(budget: 100)
        let counter = Counter()
        func ask(_ viewer: String, _ features: Int) async throws -> Int {
            try await cache.snapshot(Self.key(viewer), commit: "c1") { _ in
                await counter.add(viewer)
                return Self.snapshot(features: features)
            }
            .boxes.count
        }
        #expect(try await ask("a", 60) == 60)
        #expect(try await ask("a", 60) == 60)
        #expect(await counter.computed == ["a"], "a second ask is answered from the cache")
        // b pushes the total to 120 > 100: a, the least recently used, goes.
        #expect(try await ask("b", 60) == 60)
        #expect(try await ask("b", 60) == 60)
        #expect(await counter.computed == ["a", "b"])
        #expect(try await ask("a", 60) == 60)
        #expect(await counter.computed == ["a", "b", "a"], "a was dropped, so it is computed again")
        // A single key larger than the whole budget is still kept and answered.
        #expect(try await ask("huge", 500) == 500)
        #expect(try await ask("huge", 500) == 500)
        #expect(await counter.computed == ["a", "b", "a", "huge"])
    }
}
