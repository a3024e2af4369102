import CPCRE2
import CairnCore

/// A compiled PCRE2 pattern with bounded matching.
///
/// User patterns (Grep) and glob translations run here rather than in Swift `Regex` or
/// `NSRegularExpression`, which backtrack without limit: PCRE2's match, depth and heap limits
/// turn a catastrophic pattern into a clean `limit_exceeded` error instead of a hung process.
final class PCRERegex: @unchecked Sendable {
    // @unchecked: the compiled code is read-only after init and PCRE2 documents it as safe to
    // share between threads; match data is made per call.
    private let code: OpaquePointer
    private let context: OpaquePointer
    let pattern: String

    static let maxPatternBytes = 8192
    static let matchLimit: UInt32 = 5_000_000
    static let depthLimit: UInt32 = 100_000
    static let heapLimitKiB: UInt32 = 64 * 1024

    init(
        _ pattern: String,
        caseInsensitive: Bool = false,
        anchored: Bool = false,
        errorCode: CairnError.Code = .invalidRegex
    ) throws(CairnError) {
        self.pattern = pattern
        guard pattern.utf8.count <= Self.maxPatternBytes else {
            throw CairnError(errorCode, "pattern is longer than \(Self.maxPatternBytes) bytes")
        }
        var options = UInt32(PCRE2_UTF) | UInt32(PCRE2_MATCH_INVALID_UTF) | UInt32(PCRE2_MULTILINE) | UInt32(PCRE2_NEVER_BACKSLASH_C)
        if caseInsensitive { options |= UInt32(PCRE2_CASELESS) }
        if anchored { options |= UInt32(PCRE2_ANCHORED) | UInt32(PCRE2_ENDANCHORED) }
        var errorNumber: Int32 = 0
        var errorOffset = 0
        let bytes = Array(pattern.utf8)
        let compiled = bytes.withUnsafeBufferPointer { buf in
            pcre2_compile_8(buf.baseAddress ?? UnsafePointer(bitPattern: 1), buf.count, options, &errorNumber, &errorOffset, nil)
        }
        guard let compiled else {
            var message = [UInt8](repeating: 0, count: 256)
            let n = pcre2_get_error_message_8(errorNumber, &message, message.count)
            let text = n > 0 ? String(decoding: message[0..<Int(n)], as: UTF8.self) : "error \(errorNumber)"
            throw CairnError(
                errorCode,
                "invalid pattern '\(pattern)' at offset \(errorOffset): \(text)",
                details: ["pattern": pattern, "offset": String(errorOffset)]
            )
        }
        code = compiled
        _ = pcre2_jit_compile_8(code, UInt32(PCRE2_JIT_COMPLETE))  // falls back to the interpreter if JIT is unavailable
        context = pcre2_match_context_create_8(nil)
        pcre2_set_match_limit_8(context, Self.matchLimit)
        pcre2_set_depth_limit_8(context, Self.depthLimit)
        pcre2_set_heap_limit_8(context, Self.heapLimitKiB)
    }

    deinit {
        pcre2_match_context_free_8(context)
        pcre2_code_free_8(code)
    }

    /// A scratch area for matches; one per thread of use.
    final class Scratch {
        let data: OpaquePointer
        init(for regex: PCRERegex) { data = pcre2_match_data_create_from_pattern_8(regex.code, nil) }
        deinit { pcre2_match_data_free_8(data) }
    }

    func makeScratch() -> Scratch { Scratch(for: self) }

    /// The first match in `subject[from...]`, as byte offsets in `subject`.
    func firstMatch(in subject: UnsafeBufferPointer<UInt8>, from: Int = 0, scratch: Scratch) throws(CairnError) -> Range<Int>? {
        let base = subject.baseAddress ?? UnsafePointer(bitPattern: 1)!
        let rc = pcre2_match_8(code, base, subject.count, from, 0, scratch.data, context)
        if rc >= 0 {
            let ovector = pcre2_get_ovector_pointer_8(scratch.data)!
            return ovector[0]..<max(ovector[0], ovector[1])
        }
        if rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL { return nil }
        if rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT {
            throw CairnError(
                .limitExceeded,
                "pattern '\(pattern)' needs more matching work than allowed; simplify it (avoid nested repetition)",
                details: ["pattern": pattern]
            )
        }
        throw CairnError(.invalidRegex, "matching '\(pattern)' failed (PCRE2 error \(rc))", details: ["pattern": pattern])
    }

    func matches(_ s: String, scratch: Scratch) throws(CairnError) -> Bool {
        let bytes = Array(s.utf8)
        var found = false
        var failure: CairnError?
        bytes.withUnsafeBufferPointer { buf in
            do throws(CairnError) { found = try firstMatch(in: buf, scratch: scratch) != nil } catch { failure = error }
        }
        if let failure { throw failure }
        return found
    }
}
