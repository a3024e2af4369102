import CairnCore
import CairnStore

enum Format {
    static func commitLine(_ c: CommitInfo) -> String {
        "\(c.id.short)  \(c.time)  \(c.author)  \(firstLine(c.message))"
    }

    static func firstLine(_ s: String) -> String { s.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? "" }

    /// One broken rule, as every command prints it.
    static func violation(_ v: Violation) -> String {
        "  \(v.path) \(v.pointer.isEmpty ? "/" : v.pointer): \(v.message) [\(v.constraint)]"
    }

    static func outcome(_ o: CommitOutcome) -> String {
        guard let commit = o.commit else { return "nothing changed; \(o.branch) stays at \(o.head.short)" }
        if let number = o.mergeRequest {
            return
                "proposed as merge request !\(number): committed \(commit.short) on \(o.branch); it reaches the protected branch once "
                + "approved and merged"
        }
        return "committed \(commit.short) on \(o.branch) (\(o.changed.count) file\(o.changed.count == 1 ? "" : "s") changed)"
    }

    static func changeLetter(_ k: ChangeKind) -> String {
        switch k {
        case .added: "A"
        case .modified: "M"
        case .deleted: "D"
        }
    }

    static func files(_ files: [FileDiff]) -> String {
        var out: [String] = []
        for f in files {
            out.append("\(changeLetter(f.change))  \(f.path)")
            for c in f.json ?? [] {
                out.append("     \(c.pointer.isEmpty ? "/" : c.pointer): \(c.before?.text ?? "∅") → \(c.after?.text ?? "∅")")
            }
        }
        return out.joined(separator: "\n")
    }
}
