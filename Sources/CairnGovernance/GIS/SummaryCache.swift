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

    private var entries: [Key: [Base]] = [:]
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
        let snapshot = try await task.value
        var list = entries[key, default: []].filter { $0.commit != commit }
        list.append((commit, snapshot))
        entries[key] = Array(list.suffix(Self.perKey))
        if entries.count > Self.keys, let oldest = used.filter({ entries[$0.key] != nil }).min(by: { $0.value < $1.value })?.key {
            entries[oldest] = nil
            used[oldest] = nil
        }
        return snapshot
    }
}
