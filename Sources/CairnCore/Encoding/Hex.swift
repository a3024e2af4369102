/// Lowercase hex, on the path of every request (key hashes, commit ids): Foundation's
/// `String(format: "%02x")` costs about a microsecond per byte.
public enum Hex {
    /// Lower-case hex, as object ids are shown everywhere.
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var i = 0
            for b in bytes {
                out[i] = digits.utf8Start[Int(b >> 4)]
                out[i + 1] = digits.utf8Start[Int(b & 0xF)]
                i += 2
            }
            return i
        }
    }
}

extension Hex {
    /// `bytes` bytes from the system's secure generator, as hex: ids, secrets, tokens. Drawn
    /// eight at a time, since each draw of the generator is a `getrandom` system call.
    public static func random(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var raw: [UInt8] = []
        raw.reserveCapacity(bytes + 7)
        while raw.count < bytes {
            withUnsafeBytes(of: generator.next() as UInt64) { raw.append(contentsOf: $0) }
        }
        return encode(raw.prefix(bytes))
    }
}
