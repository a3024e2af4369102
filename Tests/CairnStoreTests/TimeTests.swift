import CairnCore
import Testing

@Suite struct TimeTests {
    @Test func rfc3339RoundTripsAndAcceptsOffsets() {
        #expect(Clock.parseRFC3339("1970-01-01T00:00:00Z") == 0)
        #expect(Clock.parseRFC3339("2026-11-26T16:09:28.123Z") == 1_795_709_368_123)
        #expect(Clock.parseRFC3339("2026-11-26T18:09:28.123+02:00") == 1_795_709_368_123)
        #expect(Clock.parseRFC3339("2026-11-26T11:09:28.5-05:00") == 1_795_709_368_500)
        #expect(Clock.rfc3339(1_795_709_368_123) == "2026-11-26T16:09:28.123Z")
        let now = Clock.nowMillis()
        #expect(Clock.parseRFC3339(Clock.rfc3339(now)) == now)
        for bad in [
            "", "yesterday", "2026-11-26", "2026-13-01T00:00:00Z", "2026-11-26T16:09:28", "2026-11-26T16:09:28.Z",
            "2026-11-26T16:09:28Zjunk",
        ] {
            #expect(Clock.parseRFC3339(bad) == nil, "\(bad)")
        }
    }
}
