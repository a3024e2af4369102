import Foundation

extension String {
    /// This string in Unicode Normalization Form C, the form every stored path uses.
    public var precomposedNFC: String { precomposedStringWithCanonicalMapping }
}
