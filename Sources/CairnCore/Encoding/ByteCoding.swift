/// Little helpers for the canonical binary encodings of tree nodes and commits.
///
/// Hand-written because the encoding *is* the identity of an object: it must be byte-for-byte
/// stable forever, which no general serializer promises.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// Appends one byte.
    public mutating func u8(_ v: UInt8) { bytes.append(v) }

    /// Appends an unsigned LEB128 integer: small numbers take one byte.
    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Appends a non-negative Int as a varint.
    public mutating func varint(_ value: Int) { varint(UInt64(value)) }

    /// Appends bytes as they are (their length is the reader's to know).
    public mutating func raw<C: Collection>(_ b: C) where C.Element == UInt8 { bytes.append(contentsOf: b) }

    /// Appends an object id's 32 bytes.
    public mutating func id(_ id: ObjectID) {
        withUnsafeBytes(of: (id.w0.bigEndian, id.w1.bigEndian, id.w2.bigEndian, id.w3.bigEndian)) { bytes.append(contentsOf: $0) }
    }

    /// Appends a string as its UTF-8 length and bytes.
    public mutating func string(_ s: String) {
        let u = Array(s.utf8)
        varint(u.count)
        raw(u)
    }

    /// Appends a presence byte, then the string if there is one.
    public mutating func optionalString(_ s: String?) {
        if let s {
            u8(1)
            string(s)
        } else {
            u8(0)
        }
    }
}

/// Reads what `ByteWriter` wrote; every read fails cleanly on truncated or malformed input.
public struct ByteReader {
    public let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var atEnd: Bool { offset == bytes.count }

    /// The bytes do not decode: a corrupt object, reported by the caller with where it was read.
    public struct Malformed: Error { public init() {} }

    /// Reads one byte.
    public mutating func u8() throws(Malformed) -> UInt8 {
        guard offset < bytes.count else { throw Malformed() }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Reads an unsigned LEB128 integer, refusing one longer than 64 bits.
    public mutating func varint() throws(Malformed) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8()
            guard shift < 64 else { throw Malformed() }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Reads a varint that must fit in an Int.
    public mutating func int() throws(Malformed) -> Int {
        let v = try varint()
        guard v <= UInt64(Int.max) else { throw Malformed() }
        return Int(v)
    }

    /// Reads `n` bytes.
    public mutating func raw(_ n: Int) throws(Malformed) -> ArraySlice<UInt8> {
        guard n >= 0, bytes.count - offset >= n else { throw Malformed() }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    /// Reads an object id.
    public mutating func id() throws(Malformed) -> ObjectID {
        guard let id = ObjectID(bytes: try raw(32)) else { throw Malformed() }
        return id
    }

    /// Reads a length-prefixed UTF-8 string, refusing invalid UTF-8.
    public mutating func string() throws(Malformed) -> String {
        let n = try int()
        guard let s = String(validating: try raw(n), as: UTF8.self) else { throw Malformed() }
        return s
    }

    /// Reads a presence byte and, if set, a string.
    public mutating func optionalString() throws(Malformed) -> String? {
        switch try u8() {
        case 0: return nil
        case 1: return try string()
        default: throw Malformed()
        }
    }
}
