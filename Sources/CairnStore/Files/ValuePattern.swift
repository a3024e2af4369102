import CairnCore

/// A compiled PCRE2 pattern for checking a value (the ontology's `pattern` rules), with the
/// same matching-work limit as grep, so a hostile pattern cannot stall a write.
public struct ValuePattern: Sendable {
    let regex: PCRERegex

    public init(_ pattern: String) throws(CairnError) {
        regex = try PCRERegex(pattern)
    }

    /// Whether the pattern occurs in `s` (anchor it with ^…$ to match the whole value).
    public func matches(_ s: String) -> Bool {
        (try? regex.matches(s, scratch: regex.makeScratch())) ?? false
    }
}
