import Crypto
import Foundation

/// The identity of an immutable stored object: SHA-256 over its kind tag and canonical bytes.
///
/// Held as four big-endian words rather than an array so that millions of ids in a tree
/// cost no allocations and compare in four integer steps.
public struct ObjectID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        (self.w0, self.w1, self.w2, self.w3) = (w0, w1, w2, w3)
    }

    /// Reads 32 bytes; `nil` if there are not exactly 32.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 32 else { return nil }
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var i = 0
        for b in bytes {
            switch i >> 3 {
            case 0: w.0 = w.0 << 8 | UInt64(b)
            case 1: w.1 = w.1 << 8 | UInt64(b)
            case 2: w.2 = w.2 << 8 | UInt64(b)
            default: w.3 = w.3 << 8 | UInt64(b)
            }
            i += 1
        }
        self.init(w0: w.0, w1: w.1, w2: w.2, w3: w.3)
    }

    /// Parses 64 lowercase or uppercase hex digits.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            guard let hi = hexValue(utf8[2 * i]), let lo = hexValue(utf8[2 * i + 1]) else { return nil }
            bytes[i] = hi << 4 | lo
        }
        self.init(bytes: bytes)
    }

    /// Hashes `kind` followed by `payload`: the kind tag keeps a blob from ever colliding with a node or commit.
    public static func hash(kind: UInt8, payload: some ContiguousBytes) -> ObjectID {
        var hasher = SHA256()
        hasher.update(data: [kind])
        payload.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return ObjectID(digest: hasher.finalize())
    }

    public init(digest: SHA256.Digest) {
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        digest.withUnsafeBytes { raw in
            func word(_ o: Int) -> UInt64 {
                var v: UInt64 = 0
                for i in 0..<8 { v = v << 8 | UInt64(raw[o + i]) }
                return v
            }
            w = (word(0), word(8), word(16), word(24))
        }
        self.init(w0: w.0, w1: w.1, w2: w.2, w3: w.3)
    }

    public var bytes: [UInt8] {
        withUnsafeBytes(of: (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)) { Array($0) }
    }

    public var hex: String { Hex.encode(bytes) }

    public var description: String { hex }

    /// The first 12 hex digits, as the CLI shows ids.
    public var short: String { String(hex.prefix(12)) }

    public static func < (a: ObjectID, b: ObjectID) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}

extension ObjectID: Codable {
    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let id = ObjectID(hex: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a 64-digit hex id"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}
