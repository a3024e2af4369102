import ArgumentParser
import CairnCore
import CairnGovernance
import CairnStore
import Foundation

struct Merge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge a branch into another (main by default), JSON files member by member.",
        discussion: """
            With conflicts nothing is written: each hunk is printed with its pointer and the base, \
            ours (the target) and theirs (the source), and the command exits 1. Settle them with \
            --resolve FILE: {"path": {"pointer": {"use": "ours"} | {"use": "theirs"} | {"value": …}}}.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @Argument(help: "The branch to merge.") var source: String
    @Option(name: .long, help: "The branch to merge into.") var into = "main"
    @Option(name: .long, help: "A JSON file of resolutions, or - for standard input.") var resolve: String?
    @Option(name: [.short, .long], help: "Why: the merge commit's message.") var message: String?
    @Option(name: .long, help: ArgumentHelp("Who: recorded as the author (default: $CAIRN_AUTHOR, else $USER).", valueName: "name"))
    var author: String?

    func run() async throws {
        var conflicted = false
        try await runReporting(global) {
            let resolutions = try Self.resolutions(resolve)
            let c = try await LocalAccess(global, project: project, author: author, reason: message ?? "merge \(source) into \(into)")
            let outcome = try await c.gateway.history.merge(
                c.caller,
                project: c.project,
                source: source,
                into: into,
                resolutions: resolutions
            )
            switch outcome {
            case .merged(let out, _):
                global.console.emit(out) {
                    out.commit == nil ? "nothing to merge: '\(into)' already has everything on '\(source)'" : Format.outcome(out)
                }
            case .conflicts(let files, _, _, _):
                conflicted = true
                struct Out: Encodable { let conflicts: [FileConflict] }
                global.console.emit(Out(conflicts: files)) {
                    files.flatMap { file in
                        file.hunks.map { h in
                            "\(file.path) \(h.pointer.isEmpty ? "(whole file)" : h.pointer)\n  base:   \(Self.show(h.base))\n  ours:   "
                                + "\(Self.show(h.ours))\n  theirs: \(Self.show(h.theirs))"
                        }
                    }.joined(separator: "\n") + "\n\(files.reduce(0) { $0 + $1.hunks.count }) conflict(s); nothing was written"
                }
            }
        }
        if conflicted { throw ExitCode.failure }
    }

    /// The `--resolve` file (or `-`): path → pointer → resolution; none without it.
    static func resolutions(_ file: String?) throws -> [String: [String: MergeResolution]] {
        guard let file else { return [:] }
        let data = try readLocalFile(file)
        do {
            return try JSONDecoder().decode([String: [String: MergeResolution]].self, from: data)
        } catch {
            throw CairnError(.invalidArgument, "the resolutions are not of the documented shape: \(error)")
        }
    }

    static func show(_ v: JSONValue?) -> String {
        guard let v else { return "(absent)" }
        if case .string(let s) = v { return s.debugDescription }
        return v.text
    }
}
