import Foundation

/// Decodes a `Decodable` type from a parsed `JSONValue` and says which object members the type
/// never read.
///
/// Written by hand because `JSONDecoder` silently ignores members a type does not declare: a
/// request body's field that the API's document promises but the Swift type lacks would be
/// accepted and dropped. The HTTP surface decodes every body with this decoder and refuses a body
/// with an unread member, so the document and the code cannot disagree unnoticed. Errors are the
/// same `DecodingError`s `JSONDecoder` throws, with the same coding paths.
public struct JSONValueDecoder {
    public init() {}

    /// The decoded value, and the JSON pointers (RFC 6901) of the object members that no type
    /// asked for. A member decoded as a whole `JSONValue` counts as read, with all it holds.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> (value: T, unread: [String]) {
        let log = ReadLog()
        let decoded = try Self.unbox(T.self, value, path: [], log: log)
        var unread: [String] = []
        log.collectUnread(value, at: "", into: &unread)
        return (decoded, unread.sorted())
    }

    /// What the types asked for: the objects and arrays they opened, and the members they named.
    final class ReadLog {
        var opened: Set<String> = []
        var read: Set<String> = []

        func collectUnread(_ value: JSONValue, at pointer: String, into unread: inout [String]) {
            guard opened.contains(pointer) else { return }
            switch value {
            case .object(let members):
                for (key, member) in members {
                    let child = pointer + "/" + JSONValue.escape(key)
                    if read.contains(child) {
                        collectUnread(member, at: child, into: &unread)
                    } else {
                        unread.append(child)
                    }
                }
            case .array(let items):
                for (i, item) in items.enumerated() { collectUnread(item, at: pointer + "/" + String(i), into: &unread) }
            default:
                break
            }
        }
    }

    static func pointer(_ path: [any CodingKey]) -> String {
        path.map { "/" + JSONValue.escape($0.intValue.map(String.init) ?? $0.stringValue) }.joined()
    }

    static func context(_ path: [any CodingKey], _ why: String) -> DecodingError.Context {
        DecodingError.Context(codingPath: path, debugDescription: why)
    }

    /// One value as `T`: scalars directly, `JSONValue` as it is, anything else through its
    /// `init(from:)` on a decoder over the value.
    static func unbox<T: Decodable>(_ type: T.Type, _ value: JSONValue, path: [any CodingKey], log: ReadLog) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        func mismatch(_ expected: String) -> DecodingError {
            if case .null = value {
                return .valueNotFound(T.self, context(path, "expected \(expected), found null"))
            }
            return .typeMismatch(T.self, context(path, "expected \(expected)"))
        }
        if T.self == String.self {
            guard case .string(let s) = value else { throw mismatch("a string") }
            return s as! T
        }
        if T.self == Bool.self {
            guard case .bool(let b) = value else { throw mismatch("a boolean") }
            return b as! T
        }
        if T.self == Double.self || T.self == Float.self {
            let d: Double
            switch value {
            case .int(let i): d = Double(i)
            case .double(let x): d = x
            default: throw mismatch("a number")
            }
            return T.self == Double.self ? d as! T : Float(d) as! T
        }
        if let integer = T.self as? any FixedWidthInteger.Type {
            return try Self.integer(integer, value, path: path, mismatch: mismatch) as! T
        }
        return try T(from: ValueDecoder(value: value, codingPath: path, log: log))
    }

    static func integer<I: FixedWidthInteger>(
        _ type: I.Type,
        _ value: JSONValue,
        path: [any CodingKey],
        mismatch: (String) -> DecodingError
    ) throws -> I {
        let found: I?
        switch value {
        case .int(let i): found = I(exactly: i)
        case .double(let d): found = d.isFinite ? I(exactly: d) : nil
        default: throw mismatch("an integer")
        }
        guard let found else {
            throw DecodingError.dataCorrupted(context(path, "the number does not fit in \(I.self)"))
        }
        return found
    }

    struct IndexKey: CodingKey {
        let intValue: Int?
        var stringValue: String { String(intValue ?? 0) }
        init(_ index: Int) { intValue = index }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    struct ValueDecoder: Decoder {
        let value: JSONValue
        let codingPath: [any CodingKey]
        let log: ReadLog
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            guard case .object(let members) = value else {
                if case .null = value {
                    throw DecodingError.valueNotFound(
                        [String: JSONValue].self,
                        JSONValueDecoder.context(codingPath, "expected an object, found null")
                    )
                }
                throw DecodingError.typeMismatch([String: JSONValue].self, JSONValueDecoder.context(codingPath, "expected an object"))
            }
            let pointer = JSONValueDecoder.pointer(codingPath)
            log.opened.insert(pointer)
            return KeyedDecodingContainer(Keyed<Key>(members: members, codingPath: codingPath, pointer: pointer, log: log))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            guard case .array(let items) = value else {
                if case .null = value {
                    throw DecodingError.valueNotFound(
                        [JSONValue].self,
                        JSONValueDecoder.context(codingPath, "expected an array, found null")
                    )
                }
                throw DecodingError.typeMismatch([JSONValue].self, JSONValueDecoder.context(codingPath, "expected an array"))
            }
            log.opened.insert(JSONValueDecoder.pointer(codingPath))
            return Unkeyed(items: items, codingPath: codingPath, log: log)
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(value: value, codingPath: codingPath, log: log) }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [String: JSONValue]
        let codingPath: [any CodingKey]
        let pointer: String
        let log: ReadLog

        var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

        private func note(_ key: Key) { log.read.insert(pointer + "/" + JSONValue.escape(key.stringValue)) }

        func contains(_ key: Key) -> Bool {
            note(key)
            return members[key.stringValue] != nil
        }

        private func member(_ key: Key) throws -> JSONValue {
            note(key)
            guard let value = members[key.stringValue] else {
                throw DecodingError.keyNotFound(key, JSONValueDecoder.context(codingPath, "no value for the key '\(key.stringValue)'"))
            }
            return value
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            if case .null = try member(key) { return true }
            return false
        }

        func value<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
            try JSONValueDecoder.unbox(T.self, try member(key), path: codingPath + [key], log: log)
        }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try value(type, key) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try value(type, key) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try value(type, key) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try value(type, key) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try value(type, key) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try value(type, key) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try value(type, key) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try value(type, key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try value(type, key) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try value(type, key) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try value(type, key) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try value(type, key) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try value(type, key) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try value(type, key) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try value(type, key) }

        func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type,
            forKey key: Key
        ) throws -> KeyedDecodingContainer<NestedKey> {
            try ValueDecoder(value: try member(key), codingPath: codingPath + [key], log: log).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try ValueDecoder(value: try member(key), codingPath: codingPath + [key], log: log).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder {
            ValueDecoder(value: .object(members), codingPath: codingPath, log: log)
        }

        func superDecoder(forKey key: Key) throws -> any Decoder {
            ValueDecoder(value: try member(key), codingPath: codingPath + [key], log: log)
        }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSONValue]
        let codingPath: [any CodingKey]
        let log: ReadLog
        var currentIndex = 0

        init(items: [JSONValue], codingPath: [any CodingKey], log: ReadLog) {
            self.items = items
            self.codingPath = codingPath
            self.log = log
        }

        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        private mutating func next() throws -> (JSONValue, [any CodingKey]) {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(
                    JSONValue.self,
                    JSONValueDecoder.context(codingPath + [IndexKey(currentIndex)], "the array has no more items")
                )
            }
            defer { currentIndex += 1 }
            return (items[currentIndex], codingPath + [IndexKey(currentIndex)])
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, case .null = items[currentIndex] else { return false }
            currentIndex += 1
            return true
        }

        mutating func value<T: Decodable>(_ type: T.Type) throws -> T {
            let (item, path) = try next()
            return try JSONValueDecoder.unbox(T.self, item, path: path, log: log)
        }

        mutating func decode(_ type: Bool.Type) throws -> Bool { try value(type) }
        mutating func decode(_ type: String.Type) throws -> String { try value(type) }
        mutating func decode(_ type: Double.Type) throws -> Double { try value(type) }
        mutating func decode(_ type: Float.Type) throws -> Float { try value(type) }
        mutating func decode(_ type: Int.Type) throws -> Int { try value(type) }
        mutating func decode(_ type: Int8.Type) throws -> Int8 { try value(type) }
        mutating func decode(_ type: Int16.Type) throws -> Int16 { try value(type) }
        mutating func decode(_ type: Int32.Type) throws -> Int32 { try value(type) }
        mutating func decode(_ type: Int64.Type) throws -> Int64 { try value(type) }
        mutating func decode(_ type: UInt.Type) throws -> UInt { try value(type) }
        mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try value(type) }
        mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try value(type) }
        mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try value(type) }
        mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try value(type) }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try value(type) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            let (item, path) = try next()
            return try ValueDecoder(value: item, codingPath: path, log: log).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let (item, path) = try next()
            return try ValueDecoder(value: item, codingPath: path, log: log).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder {
            let (item, path) = try next()
            return ValueDecoder(value: item, codingPath: path, log: log)
        }
    }

    struct Single: SingleValueDecodingContainer {
        let value: JSONValue
        let codingPath: [any CodingKey]
        let log: ReadLog

        func decodeNil() -> Bool {
            if case .null = value { return true }
            return false
        }

        func unboxed<T: Decodable>(_ type: T.Type) throws -> T { try JSONValueDecoder.unbox(T.self, value, path: codingPath, log: log) }

        func decode(_ type: Bool.Type) throws -> Bool { try unboxed(type) }
        func decode(_ type: String.Type) throws -> String { try unboxed(type) }
        func decode(_ type: Double.Type) throws -> Double { try unboxed(type) }
        func decode(_ type: Float.Type) throws -> Float { try unboxed(type) }
        func decode(_ type: Int.Type) throws -> Int { try unboxed(type) }
        func decode(_ type: Int8.Type) throws -> Int8 { try unboxed(type) }
        func decode(_ type: Int16.Type) throws -> Int16 { try unboxed(type) }
        func decode(_ type: Int32.Type) throws -> Int32 { try unboxed(type) }
        func decode(_ type: Int64.Type) throws -> Int64 { try unboxed(type) }
        func decode(_ type: UInt.Type) throws -> UInt { try unboxed(type) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try unboxed(type) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try unboxed(type) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try unboxed(type) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try unboxed(type) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try unboxed(type) }
    }
}
