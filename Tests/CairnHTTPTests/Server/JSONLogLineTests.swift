import Foundation
import Testing

@testable import CairnHTTP

/// The server's log lines are what collectors parse: every line must be one JSON object, whatever
/// a value holds (quotes, backslashes, newlines, control characters, any Unicode).
@Suite("JSON log lines")
struct JSONLogLineTests {
    @Test("any string values give one line that parses back to the same object, keys in order")
    func roundTrip() throws {
        var samples = ["", "plain", "quote \" and backslash \\", "line\nbreak\r\ttab", "ä 漢字 😀 \u{2028}", "/a/b"]
        samples.append(String(decoding: (0..<0x20).map { UInt8($0) } + [0x7f], as: UTF8.self))
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let scalars = (0..<Int.random(in: 0...24, using: &rng)).compactMap { _ in
                Unicode.Scalar(
                    [UInt32.random(in: 0...0x7f, using: &rng), UInt32.random(in: 0...0xffff, using: &rng)].randomElement(using: &rng)!
                )
            }
            samples.append(String(String.UnicodeScalarView(scalars)))
        }
        for (i, value) in samples.enumerated() {
            let object = ["message": value, "b": "\(i)", "a\"key\n": value, "time": "t"]
            let line = JSONLogHandler.line(object)
            #expect(line.last == 0x0a && line.dropLast().allSatisfy { $0 != 0x0a }, "not one line for \(value.debugDescription)")
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(line.dropLast())) as? [String: String])
            #expect(parsed == object, "\(value.debugDescription)")
            let text = String(decoding: line, as: UTF8.self)
            let order = ["\"a\\\"key\\n\"", "\"b\"", "\"message\"", "\"time\""].map { text.range(of: $0)?.lowerBound }
            #expect(order.allSatisfy { $0 != nil } && order.map { $0! } == order.map { $0! }.sorted(), "\(text)")
        }
    }
}
