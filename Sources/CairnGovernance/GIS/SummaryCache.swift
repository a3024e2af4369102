import CairnCore

/// What is kept of a collection at one commit: its summary and its spatial index.
struct CollectionSnapshot: Sendable {
    var summary = FeatureSummary()
    var boxes = FeatureBoxes()
}

/// Collection summaries (with their spatial indexes) by commit, one cache per Gateway. A commit never changes, so a summary
/// computed for one is right forever; a newer commit's summary is derived from the newest one
/// kept for the same collection and viewer (`compute` gets it as its base and applies the diff),
/// so a commit costs work in proportion to what it changed, not to the collection's size.
/// Requests for a summary being computed wait for that computation rather than start another.
actor SummaryCache {
    /// A collection as one viewer sees it: everyone who may read the whole project sees the same
    /// features (`viewer` empty); a path-limited caller has summaries of its own, under its
    /// identity and the access configuration's commit, so none leaks what it may not read.
    struct Key: Hashable {
        let organization: Int64
        let project: String
        let collection: String
        let glob: String
        let viewer: String
    }

    typealias Base = (commit: String, snapshot: CollectionSnapshot)

    /// Summaries kept per key (newest last): enough for a few as-of readers beside the head.
    private static let perKey = 4
    /// Keys kept in all, the least recently used dropped first.
    private static let keys = 512
    /// Features indexed in all the keys kept, at most (least recently used keys dropped first):
    /// a spatial index holds every feature of its collection (some hundreds of bytes each), and
    /// each path-limited caller has indexes of its own, so the number of keys alone does not
    /// bound the memory many callers could make the server hold.
    let budget: Int

    init(budget: Int = 4_000_000) { self.budget = budget }

    private var entries: [Key: [Base]] = [:]
    /// Each key's weight: the most features one of its snapshots indexes (a key's snapshots share
    /// most of their storage).
    private var weights: [Key: Int] = [:]
    private var used: [Key: UInt64] = [:]
    private var clock: UInt64 = 0
    private var running: [Key: [String: Task<CollectionSnapshot, any Error>]] = [:]

    func snapshot(
        _ key: Key,
        commit: String,
        compute: @escaping @Sendable (Base?) async throws -> CollectionSnapshot
    ) async throws -> CollectionSnapshot {
        clock += 1
        used[key] = clock
        if let hit = entries[key]?.last(where: { $0.commit == commit }) { return hit.snapshot }
        if let task = running[key]?[commit] { return try await task.value }
        let base = entries[key]?.last
        let task = Task { try await compute(base) }
        running[key, default: [:]][commit] = task
        defer { running[key]?[commit] = nil }
        let snapshot: CollectionSnapshot
        do {
            snapshot = try await task.value
        } catch {
            // A key that never held a snapshot is not remembered.
            if entries[key] == nil { used[key] = nil }
            throw error
        }
        var list = entries[key, default: []].filter { $0.commit != commit }
        list.append((commit, snapshot))
        entries[key] = Array(list.suffix(Self.perKey))
        weights[key] = entries[key]!.map(\.snapshot.boxes.count).max() ?? 0
        // The key just computed stays (a single collection larger than the budget still answers).
        while entries.count > Self.keys || weights.values.reduce(0, +) > budget,
            let oldest = used.filter({ entries[$0.key] != nil && $0.key != key }).min(by: { $0.value < $1.value })?.key
        {
            entries[oldest] = nil
            used[oldest] = nil
            weights[oldest] = nil
        }
        return snapshot
    }
}
