import CairnCLI

/// The `cairn` binary: all behaviour lives in CairnCLI, which the tests import.
@main
enum Entry {
    static func main() async {
        await Cairn.main()
    }
}
