import CairnCore

/// The tables every backend keeps, named and laid out alike so a store copies between backends
/// row for row: the same organization and project numbers, object ids, ref-log sequence
/// numbers and audit chain (a copy that renumbered anything would break the audit hashes).
public enum StoreTable: String, Sendable, CaseIterable, Codable {
    // In load order: every row's references are loaded before it.
    case organization, project, object, ref, reflog
    case commitIndex = "commit_index"
    case pathHistory = "path_history"
    case audit
    case runCall = "run_call"

    /// Column names in export order; the leading `keyWidth` form the primary key.
    public var columns: [String] {
        switch self {
        case .organization: ["id", "name", "created_ms"]
        case .project: ["id", "org", "name", "created_ms"]
        case .object: ["project", "id", "kind", "data"]
        case .ref: ["project", "name", "head"]
        case .reflog: ["seq", "project", "name", "old", "new", "time_ms", "principal", "reason"]
        case .commitIndex: ["project", "id", "generation", "parent", "skip", "time_ms"]
        case .pathHistory: ["project", "path", "generation", "commit_id", "change", "blob"]
        case .audit: ["org", "seq", "time_ms", "actor", "action", "outcome", "body", "prev", "hash"]
        case .runCall: ["project", "run", "seq", "time_ms", "body"]
        }
    }

    public var keyWidth: Int {
        switch self {
        case .organization, .project, .reflog: 1
        case .object, .ref, .commitIndex, .audit: 2
        case .runCall: 3
        case .pathHistory: 4
        }
    }

    /// The SQL name of the table (the same on both backends).
    public var sqlName: String { rawValue }

    /// Each column's kind, for backends that must bind typed values.
    public var kinds: [StoreValue.Kind] {
        switch self {
        case .organization: [.integer, .text, .integer]
        case .project: [.integer, .integer, .text, .integer]
        case .object: [.integer, .bytes, .integer, .bytes]
        case .ref: [.integer, .text, .bytes]
        case .reflog: [.integer, .integer, .text, .bytes, .bytes, .integer, .text, .text]
        case .commitIndex: [.integer, .bytes, .integer, .bytes, .bytes, .integer]
        case .pathHistory: [.integer, .text, .integer, .bytes, .text, .bytes]
        case .audit: [.integer, .integer, .integer, .text, .text, .text, .bytes, .bytes, .bytes]
        case .runCall: [.integer, .text, .integer, .integer, .bytes]
        }
    }
}

/// One cell of an exported row.
public enum StoreValue: Sendable, Hashable {
    case integer(Int64)
    case text(String)
    case bytes([UInt8])
    case null

    /// A column's type, the same on both backends.
    public enum Kind: Sendable { case integer, text, bytes }

    /// Canonical bytes for digests: a tag, then the value, lengths spelled out, so two
    /// different rows can never encode alike.
    public func encode(into writer: inout ByteWriter) {
        switch self {
        case .integer(let v):
            writer.u8(1)
            withUnsafeBytes(of: UInt64(bitPattern: v).bigEndian) { writer.raw($0) }
        case .text(let t):
            writer.u8(2)
            writer.varint(t.utf8.count)
            writer.raw(t.utf8)
        case .bytes(let b):
            writer.u8(3)
            writer.varint(b.count)
            writer.raw(b)
        case .null:
            writer.u8(0)
        }
    }
}
