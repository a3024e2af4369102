import Testing

@testable import CairnEngine

/// A Read's answer numbers its lines as `cat -n` does, which agents rely on to cite and edit.
struct ReadTextTests {
    @Test func linesAreNumberedRightAlignedInSixColumnsThenATab() {
        #expect(RunSession.numbered(["a", "b"], from: 1) == "     1\ta\n     2\tb")
        #expect(RunSession.numbered(["x"], from: 99_999) == " 99999\tx")
        // A number wider than six columns is written whole, never cut.
        #expect(RunSession.numbered(["y", ""], from: 1_234_567) == "1234567\ty\n1234568\t")
        #expect(RunSession.numbered([], from: 1) == "")
    }
}
