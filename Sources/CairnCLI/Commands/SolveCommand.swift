import ArgumentParser
import CairnCore
import CairnGovernance
import CairnStore
import Foundation

/// `cairn solve`: the Solve primitive on the command line.
struct SolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solve",
        abstract: "Optimization on local solvers: linear (LP/MIP, by GLPK), routing (vehicles), facility_location, crew_assignment.",
        discussion: """
            A linear model is a file (--input: .json in Cairn's model form, .lp or .mps). A routing problem is a file \
            (--input, with its cost matrix) or is built from Point files: --depots (the first is the depot) and --stops \
            (properties demand, service, earliest, latest), with --vehicles, --capacity and --shift-end; costs along \
            --roads when given, else geodesic. facility_location opens facilities among --depots (properties capacity, \
            cost) and assigns every --stops customer (property demand) to one. crew_assignment gives each work order \
            (--stops; properties minutes, priority) to one crew (--depots; property minutes, else --capacity) or leaves it, \
            the most urgent first. With --output DIR the model, the result \
            (with its provenance) and the solver's log are written to DIR/<timestamp>/ in one commit.
              cairn solve linear --input models/plan.mps --time-limit 30
              cairn solve routing --depots crew/depots/1.json --stops 'crew/orders/*.json' --vehicles 3 --roads 'roads/**'
              cairn solve facility_location --depots 'fiber/cabinets/*.json' --stops 'fiber/drops/*.json' --capacity 4 --output runs
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @Argument(help: "linear, routing, facility_location or crew_assignment.") var kind: String
    @Option(name: .long, help: "The model file (.json, .lp or .mps).") var input: String?
    @Option(name: .long, help: "json, lp or mps (default: the input's extension).") var format: String?
    @Option(name: .long, help: "auto (CBC for a MIP, GLPK for an LP and for LP/MPS text), glpk or cbc.") var solver: String?
    @Option(name: .long, help: "Seconds before the solver stops (default 60).") var timeLimit: Double?
    @Option(name: .long, help: "The relative gap at which a MIP may stop.") var gap: Double?
    @Option(name: .long, help: "Routing: the search's seed.") var seed: UInt64?
    @Option(name: .long, help: "Routing: the iteration budget (with --seed, a deterministic answer).") var iterations: Int?
    @Option(name: .long, help: "Customers or stops (Point files, a glob).") var stops: String?
    @Option(name: .long, help: "The depot, or candidate facilities (Point files, a glob).") var depots: String?
    @Option(name: .long, help: "Costs along these road files (a glob); else geodesic.") var roads: String?
    @Option(name: .long, help: "Routing: how many vehicles.") var vehicles: Int?
    @Option(name: .long, help: "Vehicle or facility capacity.") var capacity: Double?
    @Option(name: .long, help: "Routing: when vehicles must be back (seconds).") var shiftEnd: Double?
    @Option(name: .long, help: "Facility location: the farthest a customer may be from its facility (metres).") var maxDistance: Double?
    @Option(name: .long, help: "Write model, result and log to DIR/<timestamp>/ (a governed write).") var output: String?
    @Option(name: .long, help: "The ref to read.") var at = "main"
    @Option(name: [.short, .long], help: "Why (with --output).") var message: String?
    @Option(name: .long, help: ArgumentHelp("Who (with --output).", valueName: "name")) var author: String?

    func run() async throws {
        try await runReporting(global) {
            var request = SolveRequest(kind: kind)
            request.ref = at
            request.solver = solver
            (request.input, request.format, request.timeLimit, request.gap, request.seed, request.iterations) = (
                input, format, timeLimit, gap, seed, iterations
            )
            (request.stops, request.depots, request.roads, request.vehicles, request.capacity) = (stops, depots, roads, vehicles, capacity)
            (request.shiftEnd, request.maxDistance, request.output, request.message) = (shiftEnd, maxDistance, output, message)
            let c = try await LocalAccess(global, project: project, author: author, reason: message ?? "solve \(kind)")
            let response = try await c.gateway.compute.solve(c.caller, project: c.project, request)
            global.console.emit(response) {
                let r = response.result
                var lines = ["status: \(r.status.rawValue)" + (r.message.map { " (\($0))" } ?? "")]
                if let o = r.objective { lines.append("objective: \(o)" + (r.gap.map { String(format: "  gap: %.4g", $0) } ?? "")) }
                for d in r.drivers.prefix(5) { lines.append("  \(d.name) = \(d.value)  (contributes \(d.contribution))") }
                for route in response.routes?.routes ?? [] where !route.visits.isEmpty {
                    lines.append("\(route.vehicle): " + route.visits.map(\.stop).joined(separator: " → ") + "  (cost \(route.cost))")
                }
                for (customer, facility) in (response.assignments ?? [:]).sorted(by: { $0.key < $1.key }) {
                    lines.append("\(customer) → \(facility)")
                }
                lines.append(String(format: "solved in %.3f s by %@", r.solveTime, r.solver))
                if let folder = response.folder, let out = response.output { lines.append("written to \(folder)/\n" + Format.outcome(out)) }
                return lines.joined(separator: "\n")
            }
        }
    }
}
