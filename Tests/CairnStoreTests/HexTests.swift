import CairnCore
import Testing

/// Hex is how ids, digests, secrets and tokens are shown; random hex is how they are made.
struct HexTests {
    @Test func encodesLowerCaseTwoDigitsPerByte() {
        #expect(Hex.encode([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(Hex.encode([UInt8]()) == "")
    }

    @Test func randomHexHasTheLengthAskedForAndVaries() {
        for bytes in [0, 1, 4, 8, 12, 31, 32] {
            let text = Hex.random(bytes: bytes)
            #expect(text.count == bytes * 2 && text.allSatisfy { "0123456789abcdef".contains($0) }, "\(bytes): \(text)")
        }
        // 200 draws of 12 bytes: any repeat would mean the bytes are not random.
        #expect(Set((0..<200).map { _ in Hex.random(bytes: 12) }).count == 200)
    }
}
