/// The history area: commits, diffs, blame, revert, branches and merges. Reads are authorized as
/// file reads are (a path-limited caller sees only the history of its paths); a revert, a merge
/// or a branch change goes through the core's authorization, ontology check and audit like any
/// other change. It keeps nothing between calls: history is the store's.
public struct HistoryArea: Sendable {
    /// The Gateway whose core this area calls.
    let core: Gateway
}

extension Gateway {
    /// Commits, diffs, blame, revert, branches and merges (see `HistoryArea`).
    public var history: HistoryArea { HistoryArea(core: self) }
}
