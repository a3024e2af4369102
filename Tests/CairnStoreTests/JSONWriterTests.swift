import CairnStore
import Foundation
import Testing

/// The hand-written JSON writer: what it writes reads back, by our parser and by Foundation's,
/// as the value it was given (numbers exactly), members in key order, the same bytes each time.
@Suite struct JSONWriterTests {
    /// Numbers compared as numbers: the writer puts 500.0 as `500`, which reads back as an integer.
    static func normalized(_ v: JSONValue) -> JSONValue {
        switch v {
        case .int(let i): .double(Double(i))
        case .array(let a): .array(a.map(normalized))
        case .object(let o): .object(o.mapValues(normalized))
        default: v
        }
    }

    @Test(arguments: 0..<60)
    func writesWhatReadsBackAsTheSameValue(seed: Int) throws {
        var rng = SplitMix64(state: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 3)
        func number() -> Double {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: Double(Int.random(in: -1_000_000...1_000_000, using: &rng))
            case 1: Double.random(in: -180...180, using: &rng)
            case 2: Double.random(in: -1...1, using: &rng) * 1e-9
            case 3: Double.random(in: 1e15...1e300, using: &rng)
            default: Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)
            }
        }
        func value(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &rng) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &rng))
            case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &rng))
            case 3: return .double(number())
            case 4:
                let alphabet = "aé\"\\\n\t\r\u{01}\u{1f}😀z/\u{2028}"
                return .string(String((0..<Int.random(in: 0...8, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }))
            case 5: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(depth + 1) })
            default:
                let keys = ["b", "a", "é", "A", "", "a\"b", "10", "9"]
                return .object(
                    Dictionary((0..<Int.random(in: 0...5, using: &rng)).map { _ in (keys.randomElement(using: &rng)!, value(depth + 1)) }) {
                        a,
                        _ in a
                    }
                )
            }
        }
        let v = value(0)
        let bytes = v.compactBytes
        let parsed = try #require(JSONValue.parse(bytes), "\(String(decoding: bytes, as: UTF8.self))")
        #expect(Self.normalized(parsed) == Self.normalized(v), "\(String(decoding: bytes, as: UTF8.self))")
        // Foundation reads it too, to the same numbers.
        let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        #expect(Self.normalized(foundation) == Self.normalized(v))
        #expect(!bytes.contains(0x0a), "one line")
        #expect(v.compactBytes == bytes, "the same bytes each time")
    }

    @Test func writesMembersInKeyOrderAndNumbersAsTheEncoderDoes() {
        let v = JSONValue.object(["b": .double(500), "a": .double(0.1), "c": .double(-2.5e-7), "d": .double(.infinity), "e": .int(-3)])
        #expect(String(decoding: v.compactBytes, as: UTF8.self) == #"{"a":0.1,"b":500,"c":-2.5e-07,"d":null,"e":-3}"#)
        #expect(String(decoding: JSONValue.string("q\"\\\n\u{7}/é").compactBytes, as: UTF8.self) == #""q\"\\\n\u0007/é""#)
    }

    /// A pair of members is ordered without the general sort: both orders of insertion, and keys
    /// where one is a prefix of the other, give the same bytes in key order.
    @Test func writesAPairOfMembersInKeyOrder() {
        for (x, y) in [("lon", "lat"), ("lat", "lon"), ("a", "ab"), ("ab", "a"), ("é", "z")] {
            var o: [String: JSONValue] = [:]
            o[x] = .int(1)
            o[y] = .int(2)
            let (first, second) = x.utf8.lexicographicallyPrecedes(y.utf8) ? ((x, 1), (y, 2)) : ((y, 2), (x, 1))
            #expect(
                String(decoding: JSONValue.object(o).compactBytes, as: UTF8.self)
                    == "{\"\(first.0)\":\(first.1),\"\(second.0)\":\(second.1)}"
            )
        }
    }

    @Test func writesIntegersDigitByDigit() {
        let cases: [(JSONValue, String)] = [
            (.int(0), "0"), (.int(-7), "-7"), (.int(Int64.max), "9223372036854775807"), (.int(Int64.min), "-9223372036854775808"),
            (.double(-0.0), "0"), (.double(1e15), "1000000000000000"), (.double(-42), "-42"),
        ]
        for (value, text) in cases { #expect(String(decoding: value.compactBytes, as: UTF8.self) == text) }
    }

    /// JSON pointer segments (RFC 6901): `~` before `/`, so `~1` in a name stays itself.
    @Test func escapesPointerSegments() {
        #expect(JSONValue.escape("plain") == "plain")
        #expect(JSONValue.escape("a/b") == "a~1b")
        #expect(JSONValue.escape("~1") == "~01")
        #expect(JSONValue.escape("é~/😀") == "é~0~1😀")
    }
}
