import CairnCore
import CairnGovernance
import Foundation
import Testing

/// Cron schedules in a time zone: wall-clock times across daylight saving, cron's day rule,
/// and errors that name the field.
@Suite struct CronScheduleTests {
    static func at(_ s: String) throws -> Date { try #require(WorkflowFixture.date(s)) }

    /// Every firing in [from, to).
    static func firings(_ schedule: CronSchedule, from: String, to: String) throws -> [Date] {
        var out: [Date] = []
        var t = schedule.next(after: try at(from).addingTimeInterval(-0.001))
        let end = try at(to)
        while let f = t, f < end {
            out.append(f)
            t = schedule.next(after: f)
        }
        return out
    }

    @Test("06:00 Europe/Helsinki stays 06:00 local across the spring change: 04:00Z before, 03:00Z after")
    func wallClockAcrossSpring() throws {
        let s = try CronSchedule("0 6 * * *", timeZone: "Europe/Helsinki")
        let got = try Self.firings(s, from: "2027-03-27T00:00:00Z", to: "2027-03-29T00:00:00Z")
        #expect(got == [try Self.at("2027-03-27T04:00:00Z"), try Self.at("2027-03-28T03:00:00Z")])
    }

    @Test("a time the spring-forward day skips (03:30 in Helsinki on 28 March 2027) fires once that day; a repeated autumn time fires once")
    func skippedAndRepeatedTimesFireOnce() throws {
        let s = try CronSchedule("30 3 * * *", timeZone: "Europe/Helsinki")
        let spring = try Self.firings(s, from: "2027-03-27T22:00:00Z", to: "2027-03-28T22:00:00Z")
        #expect(spring.count == 1, "\(spring)")
        // 03:30 EET on 31 October 2027 happens twice (04:00 EEST falls back to 03:00 EET).
        let autumn = try Self.firings(s, from: "2027-10-30T22:00:00Z", to: "2027-10-31T22:00:00Z")
        #expect(autumn.count == 1, "\(autumn)")
        // Hourly on those days: each wall-clock time once, so 23 firings on the 23-hour day and 24
        // on the 25-hour one (the repeated 03:15 fires at its first occurrence only).
        let hourly = try CronSchedule("15 * * * *", timeZone: "Europe/Helsinki")
        #expect(try Self.firings(hourly, from: "2027-03-27T22:00:00Z", to: "2027-03-28T21:00:00Z").count == 23)
        #expect(try Self.firings(hourly, from: "2027-10-30T21:00:00Z", to: "2027-10-31T22:00:00Z").count == 24)
    }

    @Test("lists, ranges, steps and names; day-of-month and day-of-week both given fire on either (cron's rule)")
    func fieldsAndDayRule() throws {
        let weekdays = try CronSchedule("*/20 9-10 * * MON-FRI", timeZone: "UTC")
        // Friday 2027-01-01 and Monday 2027-01-04: 6 firings each; none at the weekend.
        #expect(try Self.firings(weekdays, from: "2027-01-01T00:00:00Z", to: "2027-01-05T00:00:00Z").count == 12)
        let either = try CronSchedule("0 0 13 * 5", timeZone: "UTC")
        let days = try Self.firings(either, from: "2027-08-01T00:00:00Z", to: "2027-09-01T00:00:00Z").map {
            Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: $0).day!
        }
        // Fridays in August 2027: 6, 13, 20, 27; the 13th is one of them.
        #expect(days == [6, 13, 20, 27])
        #expect(try CronSchedule("0 0 30 2 *", timeZone: "UTC").next(after: Self.at("2027-01-01T00:00:00Z")) == nil)
    }

    @Test("errors name the field and what is allowed")
    func errors() {
        for (expr, needle) in [
            ("* * * *", "5 fields"), ("60 * * * *", "minute"), ("* 24 * * *", "hour"), ("* * 0 * *", "day-of-month"),
            ("* * * 13 *", "month"), ("* * * * 8", "day-of-week"), ("*/0 * * * *", "step"), ("5-1 * * * *", "backwards"),
        ] {
            #expect(throws: CairnError.self, "\(expr)") { try CronSchedule(expr, timeZone: "UTC") }
            do {
                _ = try CronSchedule(expr, timeZone: "UTC")
            } catch {
                #expect(error.message.contains(needle), "\(expr): \(error.message)")
            }
        }
        #expect(throws: CairnError.self) { try CronSchedule("* * * * *", timeZone: "Mars/Base") }
    }
}
