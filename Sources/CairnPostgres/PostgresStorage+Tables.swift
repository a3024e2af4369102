import CairnCore
@_spi(StoreWrites) import CairnStore
import NIOCore
import PostgresNIO

extension PostgresStorage {
    public func tableRows(_ table: StoreTable, after: [StoreValue]?, limit: Int) async throws -> [[StoreValue]] {
        let key = table.columns.prefix(table.keyWidth).joined(separator: ", ")
        var query = PostgresQuery(unsafeSQL: "SELECT \(table.columns.joined(separator: ", ")) FROM \(table.sqlName)")
        if let after {
            let marks = after.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
            query.sql += " WHERE (\(key)) > (\(marks))"
            for value in after { Self.bind(value, into: &query.binds) }
        }
        query.sql += " ORDER BY \(key) LIMIT $\(query.binds.count + 1)"
        query.binds.append(Int64(limit))
        let kinds = table.kinds
        return try await rows(query).map { row in
            let cells = row.makeRandomAccess()
            return try kinds.indices.map { i -> StoreValue in
                switch kinds[i] {
                case .integer: return try cells[i].decode(Int64?.self).map(StoreValue.integer) ?? .null
                case .text: return try cells[i].decode(String?.self).map(StoreValue.text) ?? .null
                case .bytes: return try cells[i].decode(ByteBuffer?.self).map { .bytes(Array(buffer: $0)) } ?? .null
                }
            }
        }
    }

    @_spi(StoreWrites) public func loadRows(_ table: StoreTable, _ rows: [[StoreValue]]) async throws {
        guard !rows.isEmpty else { return }
        let width = table.columns.count
        // PostgreSQL binds at most 65,535 parameters per statement.
        let perStatement = max(1, 30_000 / width)
        try await transaction { connection in
            for start in stride(from: 0, to: rows.count, by: perStatement) {
                let chunk = rows[start..<min(rows.count, start + perStatement)]
                var query = PostgresQuery(unsafeSQL: "INSERT INTO \(table.sqlName) (\(table.columns.joined(separator: ", "))) VALUES ")
                var tuples: [String] = []
                for row in chunk {
                    let first = query.binds.count
                    tuples.append("(" + (1...width).map { "$\(first + $0)" }.joined(separator: ", ") + ")")
                    for value in row { Self.bind(value, into: &query.binds) }
                }
                query.sql += tuples.joined(separator: ", ")
                try await connection.query(query, logger: self.logger)
            }
            // Rows came with their numbers; the next number PostgreSQL hands out must follow them.
            if table == .organization || table == .project || table == .reflog {
                let column = table == .reflog ? "seq" : "id"
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL:
                            "SELECT setval(pg_get_serial_sequence('\(table.sqlName)', '\(column)'), (SELECT MAX(\(column)) FROM "
                            + "\(table.sqlName)))"
                    ),
                    logger: self.logger
                )
            }
        }
    }

    private static func bind(_ value: StoreValue, into binds: inout PostgresBindings) {
        switch value {
        case .integer(let v): binds.append(v)
        case .text(let t): binds.append(t)
        case .bytes(let b): binds.append(ByteBuffer(bytes: b))
        case .null: binds.appendNull()
        }
    }
}
