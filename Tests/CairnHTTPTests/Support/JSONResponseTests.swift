import Foundation
import Hummingbird
import Testing

@testable import CairnHTTP

/// An answer that cannot be written as JSON is the one error model's 500, never a success with
/// an empty body (a solver's `-inf` once made a solve answer `200 {}`).
@Suite struct JSONResponseTests {
    struct Answer: Encodable { let value: Double }

    @Test func anUnwritableAnswerIsA500NotAnEmptySuccess() {
        #expect(JSON.response(Answer(value: 1.5)).status == .ok)
        let broken = JSON.response(Answer(value: -.infinity))
        #expect(broken.status == .internalServerError)
        #expect(broken.headers[.contentType] == "application/json")
    }
}
