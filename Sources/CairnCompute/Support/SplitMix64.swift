/// SplitMix64: a small, fast generator whose sequence is fixed by its seed on every platform,
/// for searches that must be deterministic for a seed (routing) and for generated test data.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    /// The next pseudo-random number; the same seed always gives the same sequence, so searches can
    /// be replayed.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
