import CairnCore
import CairnStore
import Foundation

/// Everything the CLI prints goes through here: human text by default, one JSON document with
/// `--json`, and errors in one shape (`error.code`, `error.message`, `error.details`).
struct Console {
    let json: Bool

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    func emit<T: Encodable>(_ value: T, human: () -> String) {
        if json {
            Self.writeOut((try? String(decoding: Self.encoder.encode(value), as: UTF8.self)) ?? "null")
        } else {
            let text = human()
            if !text.isEmpty { Self.writeOut(text) }
        }
    }

    /// A note for people (progress, hints); never mixed into stdout, so pipes stay clean.
    func note(_ text: String) {
        if !json { Self.writeErr(text) }
    }

    static func writeOut(_ s: String) {
        FileHandle.standardOutput.write(Data((s.hasSuffix("\n") ? s : s + "\n").utf8))
    }

    static func writeErr(_ s: String) {
        FileHandle.standardError.write(Data((s.hasSuffix("\n") ? s : s + "\n").utf8))
    }

    func fail(_ error: CairnError) {
        if json {
            Self.writeOut((try? String(decoding: Self.encoder.encode(error.envelope), as: UTF8.self)) ?? "{}")
        } else {
            Self.writeErr("error: \(error.message) [\(error.code.rawValue)]")
            for v in error.violations { Self.writeErr(Format.violation(v)) }
        }
    }

    static var stderrIsTerminal: Bool { isatty(2) == 1 }
}
