import ArgumentParser
import CairnCore
import CairnGovernance
import CairnStore
import Foundation

/// `cairn export`: the project's GeoJSON Feature files as one FeatureCollection (or an RFC 8142
/// text sequence), each feature's `id` its path, written as it is read.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export Feature files as a GeoJSON FeatureCollection (or a GeoJSON text sequence), streamed, with ids from paths."
    )
    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @Option(name: .long, help: "Which files (a glob).") var glob = "**"
    @Option(name: .long, help: "A branch, a commit, REF~N, or branch@<RFC 3339 time>.") var at = "main"
    @Option(name: .long, help: ArgumentHelp("Only features meeting this box (degrees).", valueName: "west,south,east,north"))
    var bbox: String?
    @Flag(name: .long, help: "Write a GeoJSON text sequence (RFC 8142: one feature per record) instead of a FeatureCollection.")
    var seq = false
    @Option(name: [.short, .long], help: "Write to this file instead of standard output.") var output: String?

    func run() async throws {
        try await runReporting(global) {
            let box: [Double]? = try bbox.map { raw in
                let parts = raw.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard parts.count == 4 else { throw CairnError(.invalidArgument, "--bbox is four numbers: west,south,east,north") }
                return parts
            }
            let c = try await LocalAccess(global, project: project, author: nil, reason: "export")
            var export = try await c.gateway.features.export(c.caller, project: c.project, glob: glob, at: at, bbox: box)
            let handle: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil) else {
                    throw CairnError(.invalidArgument, "cannot write '\(output)'", details: ["file": output])
                }
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            } else {
                handle = FileHandle.standardOutput
            }
            defer { if output != nil { try? handle.close() } }
            handle.write(Data(FeatureExport.opening(sequence: seq)))
            var first = true
            var count = 0
            while let page = try await export.next() {
                handle.write(Data(FeatureExport.encode(page, sequence: seq, first: &first)))
                count += page.count
            }
            handle.write(Data(FeatureExport.closing(sequence: seq) + (seq ? [] : [UInt8(ascii: "\n")])))
            if output != nil { global.console.note("exported \(count) feature(s) at \(export.commit.prefix(12))") }
        }
    }
}
