import CairnCore
import Foundation

/// A five-field cron schedule (minute hour day-of-month month day-of-week) in an IANA time zone.
/// Firings are wall-clock times in that zone turned into instants by the zone's rules, so a
/// daily 06:00 stays 06:00 across daylight saving. A time a spring-forward day skips (02:30 in
/// Europe/Helsinki on the last Sunday of March) fires once, at the instant the zone maps it to
/// (03:30); a time a fall-back day repeats fires once, at its first occurrence.
///
/// Written by hand: no cron library is in the package mirror, and the schedule is small.
public struct CronSchedule: Sendable, Equatable {
    public let expression: String
    public let timeZone: TimeZone
    let minutes: [Int]
    let hours: [Int]
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    /// Day-of-month and day-of-week both restricted: a day matching either fires (cron's rule).
    let dayOr: Bool

    /// Parses a schedule; the error says which field is wrong and how.
    public init(_ expression: String, timeZone name: String) throws(CairnError) {
        guard let zone = TimeZone(identifier: name) else {
            throw CairnError(.invalidArgument, "'\(name)' is not an IANA time zone (like Europe/Helsinki or UTC)")
        }
        let fields = expression.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else {
            throw CairnError(
                .invalidArgument,
                "a cron schedule has 5 fields (minute hour day-of-month month day-of-week); '\(expression)' has \(fields.count)"
            )
        }
        self.expression = expression
        self.timeZone = zone
        minutes = try Self.field(fields[0], "minute", 0...59, names: [:]).sorted()
        hours = try Self.field(fields[1], "hour", 0...23, names: [:]).sorted()
        days = try Self.field(fields[2], "day-of-month", 1...31, names: [:])
        let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        months = try Self.field(
            fields[3],
            "month",
            1...12,
            names: Dictionary(uniqueKeysWithValues: monthNames.enumerated().map { ($1, $0 + 1) })
        )
        let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        weekdays = Set(
            try Self.field(fields[4], "day-of-week", 0...7, names: Dictionary(uniqueKeysWithValues: dayNames.enumerated().map { ($1, $0) }))
                .map {
                    $0 % 7
                }
        )
        dayOr = !fields[2].hasPrefix("*") && !fields[4].hasPrefix("*")
    }

    static func field(_ text: String, _ what: String, _ range: ClosedRange<Int>, names: [String: Int]) throws(CairnError) -> Set<Int> {
        func fail(_ why: String) -> CairnError {
            CairnError(.invalidArgument, "the \(what) field '\(text)' \(why) (allowed: \(range.lowerBound)-\(range.upperBound))")
        }
        func number(_ s: Substring) throws(CairnError) -> Int {
            if let n = Int(s), range.contains(n) { return n }
            if let n = names[s.lowercased()] { return n }
            throw fail("holds '\(s)', not a value in range")
        }
        var out = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw fail("has an empty list item") }
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else { throw fail("has more than one '/'") }
            var step = 1
            if stepParts.count == 2 {
                guard let n = Int(stepParts[1]), n > 0 else { throw fail("has a step that is not a positive number") }
                step = n
            }
            let base = stepParts[0]
            var low = range.lowerBound
            var high = range.upperBound
            if base != "*" {
                let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2, !bounds.contains(where: \.isEmpty) else { throw fail("has a bad range") }
                low = try number(bounds[0])
                high = bounds.count == 2 ? try number(bounds[1]) : (stepParts.count == 2 ? range.upperBound : low)
                guard low <= high else { throw fail("has a range that runs backwards") }
            }
            out.formUnion(stride(from: low, through: high, by: step))
        }
        return out
    }

    /// The first firing strictly after `instant`, or nil if none comes within five years (a
    /// schedule like February 30th never fires).
    public func next(after instant: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let start = calendar.startOfDay(for: instant)
        for offset in 0..<(366 * 5) {
            guard let day = calendar.date(byAdding: .day, value: offset, to: start) else { return nil }
            let c = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            guard let y = c.year, let m = c.month, let d = c.day, let w = c.weekday, months.contains(m) else { continue }
            let domHit = days.contains(d)
            let dowHit = weekdays.contains(w - 1)
            guard dayOr ? (domHit || dowHit) : (domHit && dowHit) else { continue }
            // Wall-clock order is instant order except across a DST shift (at most a few hours),
            // so only wall times near the instant's and near the first hit are converted.
            let floor = offset == 0 ? (calendar.dateComponents([.hour, .minute], from: instant)).wallMinute - 180 : Int.min
            var best: Date?
            var firstHit: Int?
            scan: for h in hours {
                for minute in minutes {
                    let wall = h * 60 + minute
                    if wall < floor { continue }
                    if let firstHit, wall > firstHit + 180 { break scan }
                    guard let at = calendar.date(from: DateComponents(year: y, month: m, day: d, hour: h, minute: minute)), at > instant
                    else { continue }
                    if firstHit == nil { firstHit = wall }
                    if best == nil || at < best! { best = at }
                }
            }
            if let best { return best }
        }
        return nil
    }
}

extension DateComponents {
    fileprivate var wallMinute: Int { (hour ?? 0) * 60 + (minute ?? 0) }
}
