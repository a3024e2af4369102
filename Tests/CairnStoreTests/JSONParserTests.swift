import CairnStore
import Foundation
import Testing

/// The hand-written JSON parser against Foundation's, on valid and invalid text.
@Suite struct JSONParserTests {
    /// What the parser replaced: Foundation's decoder through `Codable`.
    func reference(_ text: String) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    @Test func agreesWithFoundationOnValidText() {
        let samples = [
            #"{"a":1,"b":[true,false,null],"c":{"d":"e\"f\\g\/h\u00e9\ud83d\ude00\n\t"},"n":-0.5,"x":1e3,"y":1.0,"z":-12}"#,
            #"  [ 1 , 2.25 , "x" , { } , [ ] ]  "#, #""plain""#, "0", "-0", "123456789012345678901234", "3.14159e-2", "true", "null",
            #"{"unicode":"Kaisaniemenkatu ääkköset"}"#,
        ]
        for s in samples {
            #expect(JSONValue.parse(Array(s.utf8)) == reference(s), "\(s)")
            #expect(JSONValue.parse(Array(s.utf8)) != nil, "\(s)")
        }
    }

    @Test func refusesWhatIsNotJSON() {
        for s in [
            "", "{", "[1,]", "{\"a\":}", "{'a':1}", "01", "1.", ".5", "+1", "tru", "nul", "\"unterminated", "\"\\x\"", "\"\\ud800\"",
            "[1] 2",
            "{\"a\" 1}", "\"tab\there\"", "NaN", "1e", String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        ] {
            #expect(JSONValue.parse(Array(s.utf8)) == nil, "\(s)")
        }
    }

    @Test(arguments: 0..<50)
    func roundTripsRandomValues(seed: Int) {
        var rng = SplitMix64(state: UInt64(seed) &+ 99)
        func value(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &rng) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &rng))
            case 2: return .int(Int64.random(in: -1_000_000...1_000_000, using: &rng))
            case 3: return .double(Double(Int.random(in: -10000...10000, using: &rng)) / 64 + 0.5)
            case 4: return .string(String((0..<Int.random(in: 0...8, using: &rng)).map { _ in "aé\"\\\n😀z/".randomElement(using: &rng)! }))
            case 5: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(depth + 1) })
            default:
                return .object(
                    Dictionary(uniqueKeysWithValues: (0..<Int.random(in: 0...4, using: &rng)).map { ("k\($0)", value(depth + 1)) })
                )
            }
        }
        let v = value(0)
        #expect(JSONValue.parse(Array(v.text.utf8)) == v, "\(v.text)")
    }
}
