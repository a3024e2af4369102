/// Compact JSON text written by hand, for answers large enough that Foundation's `JSONEncoder`
/// dominates their cost (a route or an isochrone carries thousands of numbers; a profile put
/// three quarters of such a request in the encoder's generic machinery). Object members are
/// written in the byte order of their keys, so the same value always gives the same bytes.
public enum JSONWriter {
    /// A JSON string (RFC 8259 §7): quote, backslash and control characters escaped, the rest
    /// as UTF-8, so a value can never end a line or an object early.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0a: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0d: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
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
        guard d.isFinite else { return out.append(contentsOf: Array("null".utf8)) }
        if d == d.rounded(.towardZero) && abs(d) < 9_007_199_254_740_992 {
            out.append(contentsOf: Array(String(Int64(d)).utf8))
        } else {
            out.append(contentsOf: Array(d.description.utf8))
        }
    }

    /// Appends a value's compact JSON to a buffer, without going through an encoder.
    public static func append(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: Array("null".utf8))
        case .bool(let b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
        case .int(let i): out.append(contentsOf: Array(String(i).utf8))
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
            for (i, member) in o.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                append(member.value, to: &out)
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
