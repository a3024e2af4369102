import CairnCore

/// A path pattern: `*` (within a segment), `**` (any number of segments), `?`, `[...]`
/// (`[!...]` or `[^...]` negates) and `{a,b}`.
///
/// Translated to an anchored PCRE2 pattern, plus the literal prefix before the first wildcard,
/// which lets a match scan only that range of the sorted tree.
public struct Glob: Sendable {
    public let pattern: String
    let regex: PCRERegex
    /// Bytes every match starts with.
    public let literalPrefix: [UInt8]
    /// True when the pattern has no wildcard at all (it names one path).
    public let isLiteral: Bool

    public init(_ pattern: String) throws(CairnError) {
        let pattern = pattern.precomposedStringWithCanonicalMappingIfNeeded
        guard !pattern.isEmpty else { throw CairnError(.invalidGlob, "a glob cannot be empty") }
        guard !pattern.hasPrefix("/") else {
            throw CairnError(.invalidGlob, "glob '\(pattern)' must be relative (no leading '/')", details: ["glob": pattern])
        }
        self.pattern = pattern
        let (regex, prefix, literal) = try Self.translate(pattern)
        self.regex = try PCRERegex(regex, anchored: true, errorCode: .invalidGlob)
        self.literalPrefix = Array(prefix.utf8)
        self.isLiteral = literal
    }

    /// True if `s` contains glob syntax, so a caller can tell a path from a pattern.
    public static func hasWildcards(_ s: String) -> Bool {
        s.contains { "*?[{".contains($0) }
    }

    private static func translate(_ glob: String) throws(CairnError) -> (String, String, Bool) {
        let chars = Array(glob)
        var out = ""
        var prefix = ""
        var prefixDone = false
        var braceDepth = 0
        var i = 0
        func fail(_ why: String) -> CairnError {
            CairnError(.invalidGlob, "invalid glob '\(glob)': \(why)", details: ["glob": glob])
        }
        func literal(_ c: Character) {
            if !prefixDone { prefix.append(c) }
            let s = String(c)
            out += s.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) }) ? s : "\\Q\(s)\\E"
        }
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "*":
                prefixDone = true
                let atSegmentStart = i == 0 || chars[i - 1] == "/"
                if i + 1 < chars.count && chars[i + 1] == "*" {
                    var j = i
                    while j < chars.count && chars[j] == "*" { j += 1 }
                    let atSegmentEnd = j == chars.count || chars[j] == "/"
                    if atSegmentStart && atSegmentEnd {
                        if j < chars.count {  // "**/": zero or more whole segments
                            out += "(?:[^/]*/)*"
                            i = j + 1
                        } else {  // trailing "**": everything below
                            out += ".*"
                            i = j
                        }
                        continue
                    }
                    out += "[^/]*"
                    i = j
                    continue
                }
                out += "[^/]*"
            case "?":
                prefixDone = true
                out += "[^/]"
            case "[":
                prefixDone = true
                var j = i + 1
                var cls = "["
                if j < chars.count && (chars[j] == "!" || chars[j] == "^") {
                    cls += "^"
                    j += 1
                }
                if j < chars.count && chars[j] == "]" {
                    cls += "\\]"
                    j += 1
                }
                while j < chars.count && chars[j] != "]" {
                    let d = chars[j]
                    if d == "\\" || d == "[" { cls += "\\" }
                    cls.append(d)
                    j += 1
                }
                guard j < chars.count else { throw fail("'[' is never closed") }
                out += cls + "]"
                i = j
            case "{":
                prefixDone = true
                braceDepth += 1
                out += "(?:"
            case "}":
                guard braceDepth > 0 else { throw fail("'}' without '{'") }
                braceDepth -= 1
                out += ")"
            case "," where braceDepth > 0:
                out += "|"
            case "\\":
                guard i + 1 < chars.count else { throw fail("it ends with '\\'") }
                i += 1
                literal(chars[i])
            default:
                literal(c)
            }
            i += 1
        }
        guard braceDepth == 0 else { throw fail("'{' is never closed") }
        return (out, prefix, !prefixDone)
    }

    func matches(_ path: String, scratch: PCRERegex.Scratch) throws(CairnError) -> Bool {
        try regex.matches(path, scratch: scratch)
    }

    func makeScratch() -> PCRERegex.Scratch { regex.makeScratch() }

    /// Whether `path` matches; for callers outside the store that match one path at a time.
    public func matches(_ path: String) -> Bool {
        (try? matches(path, scratch: makeScratch())) ?? false
    }
}

extension String {
    var precomposedStringWithCanonicalMappingIfNeeded: String {
        utf8.allSatisfy { $0 < 0x80 } ? self : precomposedNFC
    }
}
