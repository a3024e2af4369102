import ArgumentParser
import CairnCore
import CairnGovernance
import CairnStore
import Foundation

/// `cairn run`: the Run primitive on the command line.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract:
            "Deterministic geo-math on the world model: distance, length, area, centroid, bbox, contains, nearest, snap, route, isochrone, "
            + "routes, matrix.",
        discussion: """
            Points are --point LON,LAT (repeat for several). Geometry comes from --input PATH (a file or glob; repeat) \
            or --geometry GEOJSON. The road network is the GeoJSON LineString files --roads matches (default roads/**), \
            with OSM tags (oneway, maxspeed, highway). With --output PATH the result and its provenance are also written there.
              cairn run route --point 24.9384,60.1699 --point 24.9525,60.1718 --weight time
              cairn run isochrone --point 24.9384,60.1699 --budget 600 --weight time --classes drivable
              cairn run centroid --input 'fiber/cabinets/*.json'
              cairn run nearest --input 'fiber/cabinets/*.json' --point 24.9384,60.1699
              cairn run routes --pair 24.9384,60.1699,24.9525,60.1718 --pair 24.95,60.17,24.93,60.16
              cairn run matrix --point 24.9384,60.1699 --point 24.95,60.17 --destination 24.9525,60.1718
            The road files are named in the answer by one content id (roads.id); --provenance full lists them too.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @Argument(help: "distance, length, area, centroid, bbox, contains, nearest, snap, route, isochrone, routes or matrix.")
    var function: String
    @Option(name: .long, help: ArgumentHelp("A point as LON,LAT.", valueName: "lon,lat")) var point: [String] = []
    @Option(name: .long, help: "A geometry file or glob (for distance, snap, route, isochrone: Point files, after the --point ones).")
    var input: [String] = []
    @Option(name: .long, help: "Inline GeoJSON geometry.") var geometry: String?
    @Option(name: .long, help: "The road files (a glob).") var roads: String?
    @Option(name: .long, help: "Only these highway classes, comma-separated ('drivable' for motor vehicles).") var classes: String?
    @Option(name: .long, help: "distance or time.") var weight: String?
    @Option(name: .long, help: "Isochrone budget: metres, or seconds with --weight time.") var budget: Double?
    @Option(name: .long, help: ArgumentHelp("For routes: an origin and a destination.", valueName: "lon,lat,lon,lat"))
    var pair: [String] = []
    @Option(name: .long, help: ArgumentHelp("For matrix: a destination (the --point ones are the origins).", valueName: "lon,lat"))
    var destination: [String] = []
    @Option(name: .long, help: "summary (the road files by their content id) or full (each listed with its blob).")
    var provenance: String?
    @Option(name: .long, help: "Also write the result here (a governed write).") var output: String?
    @Option(name: .long, help: "The ref to read.") var at = "main"
    @Option(name: [.short, .long], help: "Why (with --output).") var message: String?
    @Option(name: .long, help: ArgumentHelp("Who (with --output).", valueName: "name")) var author: String?

    func run() async throws {
        try await runReporting(global) {
            var request = RunRequest(function: function)
            request.ref = at
            func numbers(_ text: String, _ count: Int, _ shape: String) throws -> [Double] {
                let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
                    Double($0.trimmingCharacters(in: .whitespaces))
                }
                guard parts.count == count, parts.allSatisfy({ $0 != nil }) else {
                    throw CairnError(.invalidArgument, "\(shape), not '\(text)'")
                }
                return parts.compactMap { $0 }
            }
            request.points = try point.map { try numbers($0, 2, "a point is LON,LAT (e.g. 24.94,60.17)") }
            if !pair.isEmpty {
                request.pairs = try pair.map {
                    let n = try numbers($0, 4, "a pair is LON,LAT,LON,LAT (origin, then destination)")
                    return [[n[0], n[1]], [n[2], n[3]]]
                }
            }
            if !destination.isEmpty {
                request.destinations = try destination.map { try numbers($0, 2, "a destination is LON,LAT (e.g. 24.94,60.17)") }
            }
            request.provenance = provenance
            request.inputs = input.isEmpty ? nil : input
            if let geometry {
                guard let g = JSONValue.parse(Array(geometry.utf8)) else { throw CairnError(.invalidArgument, "--geometry is not JSON") }
                request.geometry = g
            }
            request.roads = roads
            request.classes = classes.map { $0.split(separator: ",").map(String.init) }
            request.weight = weight
            request.budget = budget
            request.output = output
            request.message = message
            let c = try await LocalAccess(global, project: project, author: author, reason: message ?? "run \(function)")
            let result = try await c.gateway.compute.run(c.caller, project: c.project, request)
            global.console.emit(result) {
                let e = JSONEncoder()
                e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                let text = (try? String(decoding: e.encode(result.result), as: UTF8.self)) ?? ""
                return text + (result.output.map { "\n" + Format.outcome($0) } ?? "")
            }
        }
    }
}
