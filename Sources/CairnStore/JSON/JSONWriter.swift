/// Compact JSON text written by hand, for answers large enough that Foundation's `JSONEncoder`
/// dominates their cost (a route or an isochrone carries thousands of numbers; a profile put
/// three quarters of such a request in the encoder's generic machinery). Object members are
/// written in the byte order of their keys, so the same value always gives the same bytes.
public enum JSONWriter {
    /// A JSON string (RFC 8259 §7): quote, backslash and control characters escaped, the rest
    /// as UTF-8, so a value can never end a line or an object early.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings (keys, ids, paths) need no escape: copied whole.
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            out.append(contentsOf: s.utf8)
            return out.append(UInt8(ascii: "\""))
        }
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 0x0a: out.append(contentsOf: "\\n".utf8)
            case 0x0d: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0f)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A number as JSON: integral values (below 2^53) without a fraction, as `JSONEncoder`
    /// writes them; others in Swift's shortest form that reads back exactly; not finite: null.
    public static func appendNumber(_ d: Double, to out: inout [UInt8]) {
        guard d.isFinite else { return out.append(contentsOf: "null".utf8) }
        if d == d.rounded(.towardZero) && abs(d) < 9_007_199_254_740_992 {
            appendInteger(Int64(d), to: &out)
        } else {
            out.append(contentsOf: d.description.utf8)
        }
    }

    /// An integer's decimal digits, written straight into the buffer (no `String` in between).
    public static func appendInteger(_ i: Int64, to out: inout [UInt8]) {
        if i < 0 { out.append(UInt8(ascii: "-")) }
        // The magnitude as unsigned, so Int64.min has one too.
        var m = i.magnitude
        guard m > 0 else { return out.append(UInt8(ascii: "0")) }
        let start = out.count
        while m > 0 {
            out.append(UInt8(ascii: "0") + UInt8(m % 10))
            m /= 10
        }
        out[start...].reverse()
    }

    /// Appends a value's compact JSON to a buffer, without going through an encoder.
    public static func append(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): appendInteger(i, to: &out)
        case .double(let d): appendNumber(d, to: &out)
        case .string(let s): appendString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, e) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                append(e, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            func member(_ key: String, _ value: JSONValue) {
                appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                append(value, to: &out)
            }
            func precedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
            if o.count == 2 {
                // A pair (a coordinate's lon and lat) is put in order without sorting a copy.
                var members = o.makeIterator()
                let (x, y) = (members.next()!, members.next()!)
                let (first, second) = precedes(x.key, y.key) ? (x, y) : (y, x)
                member(first.key, first.value)
                out.append(UInt8(ascii: ","))
                member(second.key, second.value)
            } else {
                for (i, m) in o.sorted(by: { precedes($0.key, $1.key) }).enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    member(m.key, m.value)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

extension JSONValue {
    /// Compact JSON, members in key byte order (see `JSONWriter`). `text` stays the encoder's
    /// form: digests recorded from it must not change.
    public var compactBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        JSONWriter.append(self, to: &out)
        return out
    }
}
