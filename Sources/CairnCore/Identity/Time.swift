import Foundation

/// Milliseconds since the Unix epoch, UTC: the only time representation inside Cairn.
public typealias Millis = Int64

public enum Clock {
    public static func nowMillis() -> Millis { Millis((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// RFC 3339 with milliseconds, always UTC (`2026-11-26T16:09:28.123Z`).
    public static func rfc3339(_ ms: Millis) -> String {
        var seconds = time_t(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)
        let millis = Int(ms - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    /// Parses RFC 3339 (with or without fractional seconds, any offset); `nil` if it is not one.
    public static func parseRFC3339(_ s: String) -> Millis? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        guard let date = withFraction.date(from: s) ?? plain.date(from: s) else { return nil }
        return Millis((date.timeIntervalSince1970 * 1000).rounded())
    }
}
