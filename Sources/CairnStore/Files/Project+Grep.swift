import CPCRE2
import CairnCore
import Foundation
import Glibc

extension Project {
    /// Searches file contents as of `ref`, line by line, with bounded matching work.
    ///
    /// Candidate paths come from a range scan of the tree (the glob's literal prefix); blobs are
    /// fetched in batches. A literal pattern is found with `memmem`; anything else with PCRE2 (JIT)
    /// over the whole file, then confirmed on its line, so files without a match cost one pass.
    ///
    /// Matching runs on `RegexWorkers`, never on the request pool, stops when the calling task is
    /// cancelled (within one file) and fails with `limit_exceeded` past `budget`.
    public func grep(_ query: GrepQuery, at ref: String = "main", budget: GrepBudget = GrepBudget(seconds: 60)) async throws -> GrepResult {
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

        var entries: [TreeEntry] = []
        try await reader.scan(root: tree, prefix: glob?.literalPrefix ?? []) { entry in
            if let glob, let globScratch {
                guard try glob.matches(String(decoding: entry.key, as: UTF8.self), scratch: globScratch) else { return true }
            }
            entries.append(entry)
            return true
        }
        // Chunks are fetched and searched concurrently (a window of one per core), then merged in
        // path order; each chunk stops at the part of the head limit still open when it started.
        let chunkSize = 256
        let chunks = stride(from: 0, to: entries.count, by: chunkSize).map { Array(entries[$0..<min(entries.count, $0 + chunkSize)]) }
        let window = 2 * max(2, ProcessInfo.processInfo.activeProcessorCount)
        return try await withThrowingTaskGroup(of: (Int, GrepResult).self) { group in
            var next = 0
            var done: [Int: GrepResult] = [:]
            var merged = 0
            func launch() {
                guard next < chunks.count else { return }
                let index = next
                let remaining = limit - result.count
                group.addTask {
                    (index, try await searchChunk(chunks[index], matcher: matcher, query: query, limit: remaining, budget: budget))
                }
                next += 1
            }
            for _ in 0..<window { launch() }
            while let (index, part) = try await group.next() {
                done[index] = part
                while let ready = done.removeValue(forKey: merged) {
                    merged += 1
                    if result.absorb(ready, limit: limit) {
                        group.cancelAll()
                        return result
                    }
                }
                launch()
            }
            return result
        }
    }

    private func searchChunk(
        _ entries: [TreeEntry],
        matcher: LineMatcher,
        query: GrepQuery,
        limit: Int,
        budget: GrepBudget
    ) async throws -> GrepResult {
        let empty = GrepResult(mode: query.mode, commit: ObjectID(w0: 0, w1: 0, w2: 0, w3: 0))
        guard !entries.isEmpty else { return empty }
        let objects = try await storage.objects(entries.map(\.value), project: id)
        try Task.checkCancellation()
        return try await RegexWorkers.shared.run { flag in
            let started = DispatchTime.now().uptimeNanoseconds
            defer { budget.charge(since: started) }
            var part = empty
            let scratch = matcher.makeScratch()
            for entry in entries {
                try budget.check(flag, jobStart: started)
                guard let object = objects[entry.value] else {
                    throw CairnError(.corrupt, "blob \(entry.value.short) is missing from the store", details: ["object": entry.value.hex])
                }
                part.filesSearched += 1
                if try !Self.search(
                    key: entry.key,
                    bytes: object.data,
                    matcher: matcher,
                    scratch: scratch,
                    query: query,
                    limit: limit,
                    into: &part
                ) {
                    break
                }
            }
            return part
        }
    }

    /// Adds one file's results; false when the head limit is reached (and more matches exist).
    private static func search(
        key: [UInt8],
        bytes: [UInt8],
        matcher: LineMatcher,
        scratch: PCRERegex.Scratch?,
        query: GrepQuery,
        limit: Int,
        into result: inout GrepResult
    ) throws -> Bool {
        try bytes.withUnsafeBufferPointer { buf in
            var path: String { String(decoding: key, as: UTF8.self) }
            switch query.mode {
            case .files:
                guard try matcher.firstMatchingLine(in: buf, from: 0, scratch: scratch) != nil else { return true }
                if result.files.count == limit {
                    result.truncated = true
                    return false
                }
                result.files.append(path)
            case .count:
                var n = 0
                var from = 0
                while let line = try matcher.firstMatchingLine(in: buf, from: from, scratch: scratch) {
                    n += 1
                    from = line.upperBound + 1
                }
                guard n > 0 else { return true }
                if result.counts.count == limit {
                    result.truncated = true
                    return false
                }
                result.counts.append(GrepCount(path: path, count: n))
            case .content:
                var from = 0
                var lineStarts: [Int]? = nil
                while let line = try matcher.firstMatchingLine(in: buf, from: from, scratch: scratch) {
                    if result.lines.count == limit {
                        result.truncated = true
                        return false
                    }
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
struct LineMatcher: Sendable {
    private let literal: [UInt8]?
    private let regex: PCRERegex?

    init(pattern: String, caseInsensitive: Bool) throws(CairnError) {
        let meta = Set("\\^$.|?*+()[]{}".utf8)
        if !caseInsensitive && !pattern.utf8.contains(where: meta.contains) {
            literal = Array(pattern.utf8)
            regex = nil
        } else {
            literal = nil
            regex = try PCRERegex(pattern, caseInsensitive: caseInsensitive)
        }
    }

    /// Match scratch space for one task (nil for a literal pattern).
    func makeScratch() -> PCRERegex.Scratch? { regex?.makeScratch() }

    /// The byte range (without its newline) of the first matching line starting at or after `from`.
    func firstMatchingLine(in buf: UnsafeBufferPointer<UInt8>, from: Int, scratch: PCRERegex.Scratch?) throws(CairnError) -> Range<Int>? {
        var from = from
        while from < buf.count {
            guard let hit = try find(in: buf, from: from, scratch: scratch) else { return nil }
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

    private func find(in buf: UnsafeBufferPointer<UInt8>, from: Int, scratch: PCRERegex.Scratch?) throws(CairnError) -> Range<Int>? {
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
