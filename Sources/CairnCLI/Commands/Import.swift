import ArgumentParser
import CairnCore
import CairnStore
import Foundation

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a GeoJSON FeatureCollection or GeoJSON text sequence: one file per feature, one commit.",
        discussion: """
            The path template fills {name} from each feature's properties (or a dotted path such as \
            {geometry.type} or {id}); {#} is the feature's position. Example:
              cairn import helsinki.geojsonseq -p city --template 'osm/{@type}/{@id}-{geometry.type}.json'
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @OptionGroup var commit: CommitOptions
    @Argument(help: "The GeoJSON file, or - for standard input.") var file: String
    @Option(name: .long, help: "Where each feature goes.") var template: String

    func run() async throws {
        try await runReporting(global) {
            let pattern = try PathTemplate(template)
            let data = try readLocalFile(file)
            let p = try await project.open(global)
            let bar = ProgressBar(enabled: !global.json && Console.stderrIsTerminal)
            let started = Date()
            let result = try await GeoJSONImport.run(
                data: [UInt8](data), template: pattern, into: p, branch: commit.branch,
                metadata: commit.metadata(default: "import \(URL(fileURLWithPath: file).lastPathComponent)"),
                progress: { bar.show($0) })
            bar.finish()
            let seconds = Date().timeIntervalSince(started)
            global.console.emit(result) {
                "imported \(result.features) features in \(String(format: "%.1f", seconds)) s; " + Format.outcome(result.outcome)
            }
        }
    }
}

/// A one-line progress bar on standard error, drawn only on a terminal.
struct ProgressBar: Sendable {
    let enabled: Bool

    func show(_ p: GeoJSONImport.Progress) {
        guard enabled else { return }
        let width = 30
        let filled = p.total == 0 ? 0 : width * p.done / p.total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let label = p.phase == "commit" && p.done < p.total ? "committing…" : "\(p.done)/\(p.total) features"
        FileHandle.standardError.write(Data("\r\(p.phase.padding(toLength: 8, withPad: " ", startingAt: 0)) \(bar) \(label)   ".utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
