import CairnCore
import Crypto

/// What a store holds, table by table: rows and a digest over every row in key order. Two
/// stores with equal summaries hold the same organizations, projects, object ids, refs, ref
/// log, indexes and audit chain, whichever backends they are on.
public struct TableSummary: Sendable, Codable, Equatable {
    public let table: String
    public let rows: Int
    public let sha256: String
}

/// Copies a whole store between backends (SQLite to PostgreSQL and back) and proves the copy.
public enum StoreCopy {
    /// Rows per page; objects come in smaller pages, being the large rows.
    static func pageSize(_ table: StoreTable) -> Int { table == .object ? 500 : 2000 }

    /// Copies every row of `source` into the empty `destination`, then compares both ends'
    /// summaries. `progress` hears each page (table, rows so far). Throws `store_not_empty` if
    /// the destination holds anything, and `conflict` if the ends differ afterwards (the source
    /// was written during the copy: stop the servers using it first).
    public static func copy(
        from source: any Storage,
        to destination: any Storage,
        progress: @Sendable (StoreTable, Int) -> Void = { _, _ in }
    ) async throws -> [TableSummary] {
        for table in StoreTable.allCases where !(try await destination.tableRows(table, after: nil, limit: 1)).isEmpty {
            throw CairnError(
                .storeNotEmpty,
                "the destination already holds data (table \(table.sqlName)); copy into a new, empty store",
                details: ["table": table.sqlName]
            )
        }
        for table in StoreTable.allCases {
            var copied = 0
            try await forEachPage(of: table, in: source) { page in
                try await destination.loadRows(table, page)
                copied += page.count
                progress(table, copied)
            }
        }
        let there = try await summary(destination)
        let here = try await summary(source)
        if let differ = zip(here, there).first(where: { $0 != $1 }) {
            throw CairnError(
                .conflict,
                "the copy differs from the source in table \(differ.0.table) (\(differ.1.rows) rows there, \(differ.0.rows) here): the "
                    + "source changed during the copy; stop its servers and copy again into a new store",
                details: ["table": differ.0.table]
            )
        }
        return there
    }

    /// Every table's row count and digest, read in key order.
    public static func summary(_ storage: any Storage) async throws -> [TableSummary] {
        var out: [TableSummary] = []
        for table in StoreTable.allCases {
            var hasher = SHA256()
            var count = 0
            try await forEachPage(of: table, in: storage) { page in
                for row in page {
                    var writer = ByteWriter()
                    for value in row { value.encode(into: &writer) }
                    hasher.update(data: writer.bytes)
                }
                count += page.count
            }
            out.append(TableSummary(table: table.sqlName, rows: count, sha256: Hex.encode(Array(hasher.finalize()))))
        }
        return out
    }

    /// Every row of a table, page by page in key order (pages of `pageSize`).
    public static func forEachPage(
        of table: StoreTable,
        in storage: any Storage,
        _ body: ([[StoreValue]]) async throws -> Void
    ) async throws {
        var after: [StoreValue]? = nil
        while true {
            let page = try await storage.tableRows(table, after: after, limit: pageSize(table))
            if !page.isEmpty { try await body(page) }
            guard let last = page.last, page.count == pageSize(table) else { return }
            after = Array(last.prefix(table.keyWidth))
        }
    }
}
