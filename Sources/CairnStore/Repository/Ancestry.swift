import CairnCore

/// First-parent ancestry by skip pointers (the scheme of Bitcoin Core's block index): each
/// commit points to one far ancestor chosen so that reaching any generation takes O(log n) hops.
enum Ancestry {
    static func skipGeneration(_ g: Int) -> Int {
        if g < 2 { return 0 }
        return g & 1 != 0 ? lowestOneCleared(lowestOneCleared(g - 1)) + 1 : lowestOneCleared(g)
    }

    private static func lowestOneCleared(_ n: Int) -> Int { n & (n - 1) }

    /// The first-parent ancestor of `start` at generation `target` (nil if `target` is above it).
    static func ancestor(
        of start: CommitIndexEntry,
        atGeneration target: Int,
        isolation: isolated (any Actor)? = #isolation,
        index: (ObjectID) async throws -> CommitIndexEntry
    ) async throws -> CommitIndexEntry? {
        guard target >= 0, target <= start.generation else { return nil }
        var walk = start
        while walk.generation > target {
            let skipGen = skipGeneration(walk.generation)
            let skipPrevGen = skipGeneration(walk.generation - 1)
            if let skip = walk.skip,
                skipGen == target || (skipGen > target && !(skipPrevGen < skipGen - 2 && skipPrevGen >= target))
            {
                walk = try await index(skip)
            } else if let parent = walk.parent {
                walk = try await index(parent)
            } else {
                return nil
            }
        }
        return walk
    }
}
