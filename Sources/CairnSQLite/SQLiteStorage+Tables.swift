import CairnCore
@_spi(StoreWrites) import CairnStore
import Foundation
import GRDB

extension SQLiteStorage {
    public func tableRows(_ table: StoreTable, after: [StoreValue]?, limit: Int) async throws -> [[StoreValue]] {
        let key = table.columns.prefix(table.keyWidth).joined(separator: ", ")
        var sql = "SELECT \(table.columns.joined(separator: ", ")) FROM \(table.sqlName)"
        var arguments = StatementArguments()
        if let after {
            sql += " WHERE (\(key)) > (\(Array(repeating: "?", count: after.count).joined(separator: ", ")))"
            for value in after { arguments += [Self.databaseValue(value)] }
        }
        sql += " ORDER BY \(key) LIMIT ?"
        arguments += [limit]
        let kinds = table.kinds
        return try await reading { [sql, arguments] db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                kinds.indices.map { i in
                    let value: DatabaseValue = row[i]
                    switch (value.storage, kinds[i]) {
                    case (.null, _): return .null
                    case (.int64(let v), _): return .integer(v)
                    case (.string(let t), .text): return .text(t)
                    case (.string(let t), _): return .bytes(Array(t.utf8))
                    case (.blob(let d), .text): return .text(String(decoding: d, as: UTF8.self))
                    case (.blob(let d), _): return .bytes([UInt8](d))
                    case (.double(let v), _): return .integer(Int64(v))
                    }
                }
            }
        }
    }

    @_spi(StoreWrites) public func loadRows(_ table: StoreTable, _ rows: [[StoreValue]]) async throws {
        guard !rows.isEmpty else { return }
        let sql =
            "INSERT INTO \(table.sqlName) (\(table.columns.joined(separator: ", "))) VALUES "
            + "(\(Array(repeating: "?", count: table.columns.count).joined(separator: ", ")))"
        try await writing { db in
            let insert = try db.cachedStatement(sql: sql)
            for row in rows {
                try insert.execute(arguments: StatementArguments(row.map(Self.databaseValue)))
            }
        }
    }

    private static func databaseValue(_ value: StoreValue) -> DatabaseValue {
        switch value {
        case .integer(let v): v.databaseValue
        case .text(let t): t.databaseValue
        case .bytes(let b): Data(b).databaseValue
        case .null: .null
        }
    }
}
