import Foundation

/// A validated path of a file in a project tree.
///
/// Paths are the keys of the versioned map, so one spelling must mean one file: relative,
/// `/`-separated, Unicode NFC (other normal forms are normalized to it), no `.`, `..` or empty
/// segments, no NUL, at most 1024 bytes. Keys order by their UTF-8 bytes.
public struct FilePath: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let string: String

    public static let maxBytes = 1024

    public init(_ raw: String) throws(CairnError) {
        // ASCII is already NFC: skip Foundation's normalization on the common path.
        let s = raw.utf8.allSatisfy { $0 < 0x80 } ? raw : raw.precomposedStringWithCanonicalMapping
        func bad(_ why: String) -> CairnError {
            CairnError(.invalidPath, "invalid path \(Self.quote(raw)): \(why)", details: ["path": raw])
        }
        if s.isEmpty { throw bad("a path cannot be empty") }
        if s.utf8.count > Self.maxBytes { throw bad("longer than \(Self.maxBytes) bytes") }
        if s.utf8.contains(0) { throw bad("contains a NUL byte") }
        if s.hasPrefix("/") { throw bad("must be relative (no leading '/')") }
        if s.contains("\\") { throw bad("use '/' to separate segments, not '\\'") }
        for segment in s.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { throw bad("has an empty segment ('//' or a trailing '/')") }
            if segment == "." || segment == ".." { throw bad("has a '\(segment)' segment") }
        }
        self.string = s
    }

    /// For keys read back from a tree, which were validated when written.
    public init(validated: String) { self.string = validated }

    public var utf8: [UInt8] { Array(string.utf8) }
    public var description: String { string }

    public static func < (a: FilePath, b: FilePath) -> Bool {
        a.string.utf8.lexicographicallyPrecedes(b.string.utf8)
    }

    static func quote(_ s: String) -> String {
        let shown = s.count > 80 ? String(s.prefix(80)) + "…" : s
        return "'" + shown.replacingOccurrences(of: "\0", with: "\\0") + "'"
    }
}
