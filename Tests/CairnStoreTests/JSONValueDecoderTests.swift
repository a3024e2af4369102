import CairnStore
import Foundation
import Testing

/// The decoder the HTTP surface reads request bodies with: it decodes as `JSONDecoder` does (the
/// same values, the same kinds of error at the same coding paths) and also names every object
/// member no type read, which `JSONDecoder` drops without a word.
@Suite struct JSONValueDecoderTests {
    struct Target: Codable, Equatable {
        enum Effect: String, Codable { case allow, deny }
        var kind: String
        var glob: String?
    }

    struct Body: Codable, Equatable {
        var name: String
        var count: Int
        var ratio: Double?
        var small: UInt8?
        var flags: [Bool]
        var target: Target?
        var targets: [Target]?
        var tags: [String: Int]?
        var effect: Target.Effect?
        var model: JSONValue?
        var nested: [[Int]]?
    }

    static func parse(_ text: String) throws -> JSONValue {
        try #require(JSONValue.parse(Array(text.utf8)))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> (T, [String]) {
        let (value, unread) = try JSONValueDecoder().decode(T.self, from: try parse(text))
        return (value, unread)
    }

    @Test("decodes what JSONDecoder decodes, to the same value, and reports nothing unread when every member is read")
    func sameValues() throws {
        let texts = [
            #"{"name":"a","count":3,"flags":[]}"#,
            #"{"name":"ü\n\"x\"","count":-9,"ratio":2,"small":255,"flags":[true,false],"target":{"kind":"path","glob":"fiber/**"}}"#,
            #"{"name":"a","count":1,"flags":[true],"targets":[{"kind":"project"},{"kind":"branch","glob":null}],"tags":{"x":1,"y":2}}"#,
            #"{"name":"a","count":1,"flags":[],"effect":"deny","model":{"any":[1,{"deep":true}],"x":null},"nested":[[1,2],[]]}"#,
            #"{"name":"a","count":1.0,"flags":[],"ratio":1e-3}"#,
        ]
        for text in texts {
            let (ours, unread) = try Self.decode(Body.self, text)
            let foundation = try JSONDecoder().decode(Body.self, from: Data(text.utf8))
            #expect(ours == foundation, "\(text)")
            #expect(unread.isEmpty, "\(text): \(unread)")
        }
    }

    @Test("names each member no type read, at any depth, as a JSON pointer; a member read as a whole JSONValue hides nothing")
    func unreadMembers() throws {
        let (_, unread) = try Self.decode(
            Body.self,
            #"{"name":"a","count":1,"flags":[],"extra":1,"target":{"kind":"k","colour":"red"},"#
                + #""targets":[{"kind":"k"},{"kind":"k","a/b":0}],"model":{"free":{"form":1}}}"#
        )
        #expect(unread == ["/extra", "/target/colour", "/targets/1/a~1b"])
    }

    @Test("fails as JSONDecoder fails: a missing key, a wrong type, a null where a value must be, a number that does not fit")
    func sameErrors() throws {
        let cases: [(String, String)] = [
            (#"{"count":1,"flags":[]}"#, "keyNotFound name"),
            (#"{"name":1,"count":1,"flags":[]}"#, "typeMismatch name"),
            (#"{"name":"a","count":"1","flags":[]}"#, "typeMismatch count"),
            (#"{"name":"a","count":1,"flags":[1]}"#, "typeMismatch flags.0"),
            (#"{"name":null,"count":1,"flags":[]}"#, "valueNotFound name"),
            (#"{"name":"a","count":1,"flags":[],"target":{"glob":"x"}}"#, "keyNotFound kind"),
            (#"{"name":"a","count":1,"flags":[],"small":256}"#, "dataCorrupted small"),
            (#"{"name":"a","count":1.5,"flags":[]}"#, "dataCorrupted count"),
            (#"{"name":"a","count":1,"flags":[],"effect":"maybe"}"#, "dataCorrupted effect"),
            (#"[1]"#, "typeMismatch "),
        ]
        for (text, expected) in cases {
            #expect(throws: (any Error).self, "\(text)") { try JSONDecoder().decode(Body.self, from: Data(text.utf8)) }
            do {
                _ = try Self.decode(Body.self, text)
                Issue.record("\(text) decoded")
            } catch let error as DecodingError {
                #expect(Self.describe(error) == expected, "\(text)")
            }
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, _): return "keyNotFound \(key.stringValue)"
        case .typeMismatch(_, let c): return "typeMismatch \(path(c))"
        case .valueNotFound(_, let c): return "valueNotFound \(path(c))"
        case .dataCorrupted(let c): return "dataCorrupted \(path(c))"
        @unknown default: return "\(error)"
        }
    }
}
