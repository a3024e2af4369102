/// The eight authorities of DESIGN.md §4: every action needs exactly one of them.
public enum Authority: String, Sendable, Codable, CaseIterable, Comparable {
    case read, write, delete, run, solve, approve, share, configure

    public static func < (a: Authority, b: Authority) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A set of authorities as a bit mask: decisions test membership millions of times, so it is
/// one AND, not a set lookup.
public struct AuthoritySet: Sendable, Equatable, Hashable, Codable {
    public var bits: UInt8

    public init(bits: UInt8 = 0) { self.bits = bits }

    public init(_ authorities: some Sequence<Authority>) {
        bits = 0
        for a in authorities { insert(a) }
    }

    public static let all = AuthoritySet(Authority.allCases)

    /// Whether the set holds an authority.
    public func contains(_ a: Authority) -> Bool { bits & Self.bit(a) != 0 }
    /// Adds an authority.
    public mutating func insert(_ a: Authority) { bits |= Self.bit(a) }
    /// The authorities of either set (a role built from others).
    public func union(_ o: AuthoritySet) -> AuthoritySet { AuthoritySet(bits: bits | o.bits) }
    /// The authorities of both sets: how an agent is bounded by whoever launched it.
    public func intersection(_ o: AuthoritySet) -> AuthoritySet { AuthoritySet(bits: bits & o.bits) }
    public var list: [Authority] { Authority.allCases.filter(contains) }

    private static func bit(_ a: Authority) -> UInt8 { 1 << UInt8(Authority.allCases.firstIndex(of: a)!) }

    public init(from decoder: any Decoder) throws {
        self.init(try [Authority](from: decoder))
    }

    public func encode(to encoder: any Encoder) throws { try list.encode(to: encoder) }
}
