import CairnCore
import CPCRE2
import Glibc

extension Project {
    /// Searches file contents as of `ref`, line by line, with bounded matching work.
    ///
    /// Candidate paths come from a range scan of the tree (the glob's literal prefix); blobs are
    /// fetched in batches. A literal pattern is found with `memmem`; anything else with PCRE2 (JIT)
    /// over the whole file, then confirmed on its line, so files without a match cost one pass.
    public func grep(_ query: GrepQuery, at ref: String = "main") async throws -> GrepResult {
        guard query.contextLines >= 0, query.contextLines <= 100 else {
            throw CairnError(.invalidArgument, "context lines must be between 0 and 100; got \(query.contextLines)")
        }
        if let head = query.headLimit, head < 1 { throw CairnError(.invalidArgument, "head limit must be at least 1; got \(head)") }
        guard !query.pattern.isEmpty else { throw CairnError(.invalidRegex, "the pattern cannot be empty") }
        let matcher = try LineMatcher(pattern: query.pattern, caseInsensitive: query.caseInsensitive)
        let glob = try query.glob.map { try Glob($0) }
        let globScratch = glob?.makeScratch()
        let (resolved, tree) = try await tree(at: ref)
        var result = GrepResult(mode: query.mode, commit: resolved.commit)
        let limit = query.headLimit ?? .max

        var pending: [TreeEntry] = []
        func flush() async throws -> Bool {
            let objects = try await storage.objects(pending.map(\.value), project: id)
            for entry in pending {
                guard let object = objects[entry.value] else {
                    throw CairnError(.corrupt, "blob \(entry.value.short) is missing from the store", details: ["object": entry.value.hex])
                }
                result.filesSearched += 1
                let path = String(decoding: entry.key, as: UTF8.self)
                if try !search(path: path, bytes: object.data, matcher: matcher, query: query, limit: limit, into: &result) {
                    return false
                }
            }
            pending.removeAll(keepingCapacity: true)
            return true
        }
        var entries: [TreeEntry] = []
        try await reader.scan(root: tree, prefix: glob?.literalPrefix ?? []) { entry in
            if let glob, let globScratch {
                guard try glob.matches(String(decoding: entry.key, as: UTF8.self), scratch: globScratch) else { return true }
            }
            entries.append(entry)
            return true
        }
        for entry in entries {
            pending.append(entry)
            if pending.count == 256 {
                guard try await flush() else { return result }
            }
        }
        if !pending.isEmpty { _ = try await flush() }
        return result
    }

    /// Adds one file's results; false when the head limit is reached (and more matches exist).
    private func search(path: String, bytes: [UInt8], matcher: LineMatcher, query: GrepQuery, limit: Int, into result: inout GrepResult) throws -> Bool {
        try bytes.withUnsafeBufferPointer { buf in
            switch query.mode {
            case .files:
                guard try matcher.firstMatchingLine(in: buf, from: 0) != nil else { return true }
                if result.files.count == limit { result.truncated = true; return false }
                result.files.append(path)
            case .count:
                var n = 0
                var from = 0
                while let line = try matcher.firstMatchingLine(in: buf, from: from) {
                    n += 1
                    from = line.upperBound + 1
                }
                guard n > 0 else { return true }
                if result.counts.count == limit { result.truncated = true; return false }
                result.counts.append(GrepCount(path: path, count: n))
            case .content:
                var from = 0
                var lineStarts: [Int]? = nil
                while let line = try matcher.firstMatchingLine(in: buf, from: from) {
                    if result.lines.count == limit { result.truncated = true; return false }
                    if lineStarts == nil { lineStarts = Self.lineStarts(buf) }
                    let starts = lineStarts!
                    let number = Self.lineIndex(of: line.lowerBound, in: starts)
                    func text(_ i: Int) -> String {
                        let s = starts[i]
                        var e = i + 1 < starts.count ? starts[i + 1] - 1 : buf.count
                        if e > s && buf[e - 1] == UInt8(ascii: "\n") { e -= 1 }
                        return String(decoding: UnsafeBufferPointer(rebasing: buf[s..<max(s, e)]), as: UTF8.self)
                    }
                    let c = query.contextLines
                    let before = (max(0, number - c)..<number).map(text)
                    let after = (number + 1..<min(starts.count, number + 1 + c)).map(text)
                    result.lines.append(GrepLine(path: path, line: number + 1, text: text(number), before: before, after: after))
                    from = line.upperBound + 1
                }
            }
            return true
        }
    }

    private static func lineStarts(_ buf: UnsafeBufferPointer<UInt8>) -> [Int] {
        var starts = [0]
        for i in 0..<buf.count where buf[i] == UInt8(ascii: "\n") && i + 1 < buf.count { starts.append(i + 1) }
        return starts
    }

    private static func lineIndex(of offset: Int, in starts: [Int]) -> Int {
        var lo = 0
        var hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }
}

/// Finds lines that match a pattern. Matches never span lines, as in grep and ripgrep.
struct LineMatcher {
    private let literal: [UInt8]?
    private let regex: PCRERegex?
    private let scratch: PCRERegex.Scratch?

    init(pattern: String, caseInsensitive: Bool) throws(CairnError) {
        let meta = Set("\\^$.|?*+()[]{}".utf8)
        if !caseInsensitive && !pattern.utf8.contains(where: meta.contains) {
            literal = Array(pattern.utf8)
            regex = nil
            scratch = nil
        } else {
            let r = try PCRERegex(pattern, caseInsensitive: caseInsensitive)
            literal = nil
            regex = r
            scratch = r.makeScratch()
        }
    }

    /// The byte range (without its newline) of the first matching line starting at or after `from`.
    func firstMatchingLine(in buf: UnsafeBufferPointer<UInt8>, from: Int) throws(CairnError) -> Range<Int>? {
        var from = from
        while from < buf.count {
            guard let hit = try find(in: buf, from: from) else { return nil }
            let start = lineStart(buf, hit.lowerBound, floor: from)
            let end = lineEnd(buf, hit.lowerBound)
            if hit.upperBound <= end || literal != nil { return start..<end }
            // The match crossed a newline: test the line on its own.
            if let regex, let scratch,
                try regex.firstMatch(in: UnsafeBufferPointer(rebasing: buf[start..<end]), scratch: scratch) != nil
            {
                return start..<end
            }
            from = end + 1
        }
        return nil
    }

    private func find(in buf: UnsafeBufferPointer<UInt8>, from: Int) throws(CairnError) -> Range<Int>? {
        guard from <= buf.count else { return nil }
        if let literal {
            guard from < buf.count, let base = buf.baseAddress else { return nil }
            let found = literal.withUnsafeBufferPointer { needle in
                memmem(base + from, buf.count - from, needle.baseAddress, needle.count)
            }
            guard let found else { return nil }
            let offset = UnsafeRawPointer(found) - UnsafeRawPointer(base)
            return offset..<offset + literal.count
        }
        return try regex!.firstMatch(in: buf, from: from, scratch: scratch!)
    }

    private func lineStart(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int, floor: Int) -> Int {
        var s = i
        while s > floor && buf[s - 1] != UInt8(ascii: "\n") { s -= 1 }
        return s
    }

    private func lineEnd(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        guard i < buf.count, let base = buf.baseAddress else { return buf.count }
        guard let nl = memchr(base + i, Int32(UInt8(ascii: "\n")), buf.count - i) else { return buf.count }
        return UnsafeRawPointer(nl) - UnsafeRawPointer(base)
    }
}
