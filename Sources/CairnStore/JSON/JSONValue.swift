import CairnCore
import Foundation

/// A parsed JSON document, for pointer-level diff and blame.
///
/// Not `indirect`: the array and object cases already hold their elements in heap buffers, so the
/// recursion needs no box of its own, and each number or string is stored inline instead of in
/// a heap allocation of its own (a route's answer holds thousands of them).
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// Parses bytes as JSON; nil if they are not JSON.
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        JSONParser.parse(bytes)
    }

    /// Parses bytes as JSON, refusing (nil) any object that names a member twice. For security
    /// tokens: RFC 7515 §4 leaves duplicates to the parser, and two parsers that pick different
    /// copies (one for the issuer check, another for the subject) disagree on who the token is for.
    public static func parse(_ bytes: [UInt8], rejectingDuplicateMembers: Bool) -> JSONValue? {
        JSONParser.parse(bytes, rejectingDuplicates: rejectingDuplicateMembers)
    }

    /// Compact JSON text with sorted keys.
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "null"
    }

    /// Every leaf (scalar, empty array, empty object) by its RFC 6901 JSON pointer.
    public func leaves() -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        func walk(_ v: JSONValue, _ pointer: String) {
            switch v {
            case .array(let a) where !a.isEmpty:
                for (i, e) in a.enumerated() { walk(e, pointer + "/" + String(i)) }
            case .object(let o) where !o.isEmpty:
                for (k, e) in o { walk(e, pointer + "/" + Self.escape(k)) }
            default:
                out[pointer] = v
            }
        }
        walk(self, "")
        return out
    }

    /// A member name as a JSON pointer segment (RFC 6901: `~` and `/` escaped).
    public static func escape(_ key: String) -> String {
        // Nearly every key has neither: it is returned as it is, without Foundation's search
        // (the request decoder escapes every member name it reads).
        guard key.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return key }
        var out = ""
        out.reserveCapacity(key.utf8.count + 4)
        for c in key.unicodeScalars {
            switch c {
            case "~": out += "~0"
            case "/": out += "~1"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

/// One changed value inside a JSON file.
public struct JSONChange: Sendable, Codable, Equatable {
    public let pointer: String
    public let before: JSONValue?
    public let after: JSONValue?
}

extension JSONValue {
    /// The changed pointers from `a` to `b`: the smallest subtrees that differ, so a replaced
    /// object is one change, not one per leaf. Sorted by pointer.
    public static func diff(_ a: JSONValue, _ b: JSONValue) -> [JSONChange] {
        var out: [JSONChange] = []
        func walk(_ a: JSONValue?, _ b: JSONValue?, _ pointer: String) {
            if a == b { return }
            switch (a, b) {
            case (.object(let x)?, .object(let y)?):
                for key in Set(x.keys).union(y.keys) { walk(x[key], y[key], pointer + "/" + escape(key)) }
            case (.array(let x)?, .array(let y)?):
                for i in 0..<max(x.count, y.count) {
                    walk(i < x.count ? x[i] : nil, i < y.count ? y[i] : nil, pointer + "/" + String(i))
                }
            default:
                out.append(JSONChange(pointer: pointer, before: a, after: b))
            }
        }
        walk(a, b, "")
        return out.sorted { $0.pointer < $1.pointer }
    }
}
