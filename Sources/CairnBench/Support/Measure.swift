import Foundation

/// Timing helpers. Medians, because machines here are shared and noisy.
enum Measure {
    static func seconds(_ body: () async throws -> Void) async rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        let d = clock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Runs `body` `runs` times and returns the median duration in seconds.
    static func median(runs: Int, _ body: (Int) async throws -> Void) async rethrows -> Double {
        var samples: [Double] = []
        for i in 0..<runs { samples.append(try await seconds { try await body(i) }) }
        return medianOf(samples)
    }

    static func medianOf(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// A memory figure of a process from /proc (`VmRSS`: resident now, `VmHWM`: its peak), in bytes.
    static func memory(_ pid: Int32, _ field: String) -> Double {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return
            (Double(
                line.split(separator: " ").dropFirst().first { !$0.isEmpty }.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
            ) ?? 0)
            * 1024
    }

    static func ms(_ s: Double) -> String { String(format: "%.3f ms", s * 1000) }
    static func rate(_ perSecond: Double) -> String { String(format: "%.0f/s", perSecond) }
    static func ratio(_ x: Double) -> String { String(format: "%.2f×", x) }
    static func bytes(_ b: Double) -> String {
        b >= 1_048_576
            ? String(format: "%.1f MiB", b / 1_048_576) : b >= 1024 ? String(format: "%.1f KiB", b / 1024) : String(format: "%.0f B", b)
    }
}

/// Collects result rows and prints them as Markdown.
final class Report: @unchecked Sendable {
    private var lines: [String] = []

    func section(_ title: String, _ conditions: String) {
        lines.append("\n### \(title)\n\n\(conditions)\n\n| measurement | Cairn | peer | peer value | ratio |\n|---|---|---|---|---|")
        flush()
    }

    func row(_ what: String, _ ours: String, _ peer: String, _ theirs: String, _ ratio: String) {
        lines.append("| \(what) | \(ours) | \(peer) | \(theirs) | \(ratio) |")
        flush()
    }

    func note(_ text: String) {
        lines.append("\n\(text)")
        flush()
    }

    private func flush() {
        for l in lines { FileHandle.standardOutput.write(Data((l + "\n").utf8)) }
        lines.removeAll()
    }
}

func log(_ s: String) {
    FileHandle.standardError.write(Data("[bench] \(s)\n".utf8))
}
