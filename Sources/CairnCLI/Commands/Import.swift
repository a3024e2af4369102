import ArgumentParser
import CairnCore
import CairnGovernance
import CairnStore
import Foundation

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a GeoJSON FeatureCollection or GeoJSON text sequence: one file per feature, one commit.",
        discussion: """
            The path template fills {name} from each feature's properties (or a dotted path such as \
            {geometry.type} or {id}); {#} is the feature's position. Example:
              cairn import helsinki.geojsonseq -p city --template 'osm/{@type}/{@id}-{geometry.type}.json'
            Features are stored in longitude, latitude (WGS 84). An input in another system (a QGIS or \
            GDAL export's `crs` member, or --crs for a file that does not say) is transformed with PROJ, \
            and the commit message records the system it came from (a `Source-CRS:` line).
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @OptionGroup var commit: CommitOptions
    @Argument(help: "The GeoJSON file, or - for standard input.") var file: String
    @Option(name: .long, help: "Where each feature goes.") var template: String?
    @Flag(
        name: .customLong("paths-from-ids"),
        help: "Each feature goes to the path its id names (what cairn export writes), instead of a template."
    )
    var pathsFromIDs = false
    @Option(
        name: .long,
        help: ArgumentHelp("The coordinate system the input is in, when it does not say (EPSG:3067 ...).", valueName: "system")
    )
    var crs: String?

    func run() async throws {
        try await runReporting(global) {
            guard (template == nil) == pathsFromIDs else {
                throw CairnError(.invalidArgument, "give --template, or --paths-from-ids to read back an export (one of them)")
            }
            let pattern = try template.map { try PathTemplate($0) }
            let data = try readLocalFile(file)
            let started = Date()
            // Parsed (and transformed) before anything is opened: a refused input changes nothing.
            let parsed = try GeoJSONImport.parse([UInt8](data), system: crs, reprojector: PROJReprojector())
            var message = commit.message ?? "import \(URL(fileURLWithPath: file).lastPathComponent)"
            if let source = parsed.sourceSystem {
                message += "\n\nSource-CRS: \(source) (transformed to WGS 84 longitude, latitude by PROJ)"
            }
            var options = commit
            options.message = message
            let c = try await project.change(global, options, default: message)
            let bar = ProgressBar(enabled: !global.json && Console.stderrIsTerminal)
            let changes = try GeoJSONImport.prepare(parsed, template: pattern, progress: { bar.show($0) })
            bar.show(GeoJSONImport.Progress(phase: "commit", done: 0, total: changes.count))
            let outcome = try await c.gateway.commit(
                c.caller,
                project: c.project,
                changes: changes,
                branch: commit.branch,
                action: "import"
            )
            bar.show(GeoJSONImport.Progress(phase: "commit", done: changes.count, total: changes.count))
            let result = GeoJSONImport.Result(features: changes.count, outcome: outcome)
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
