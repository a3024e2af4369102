import CairnCompute
import CairnCore
import CairnSolve
import CairnStore
import Foundation
import Synchronization

/// A Solve: one optimization problem, read from the world model (or given inline), answered by a
/// local solver in one result shape.
public struct SolveRequest: Sendable, Decodable {
    /// `linear` (LP or MIP), `routing` (vehicle routing), `facility_location` or
    /// `crew_assignment` (MIPs built from files).
    public var kind: String
    /// The commit read (a ref); `main` by default.
    public var ref: String?
    /// linear and routing: the model file (`.json`, `.lp` or `.mps`), or the model inline.
    public var input: String?
    public var model: JSONValue?
    /// `json`, `lp` or `mps`; by default from the input's extension.
    public var format: String?
    /// `auto` (the default: CBC for a model with integer variables given as JSON or built from
    /// files, GLPK for a linear program and for LP/MPS text), `glpk` or `cbc`.
    public var solver: String?
    /// Seconds before the solver stops (default 60), and the relative gap a MIP may stop at.
    public var timeLimit: Double?
    public var gap: Double?
    /// routing: the search's seed and iteration budget (deterministic together).
    public var seed: UInt64?
    public var iterations: Int?
    /// routing and facility_location from files: the customers (Point files; properties
    /// `demand`, and for routing `service`, `earliest`, `latest` in seconds) and the depot or
    /// the candidate facilities (Point files; facilities: `capacity` and `cost` properties).
    public var stops: String?
    public var depots: String?
    /// Costs along these roads (a glob of road files); without it, geodesic distance.
    public var roads: String?
    /// routing from files: how many vehicles, each's capacity, and when it must be back (seconds).
    public var vehicles: Int?
    public var capacity: Double?
    public var shiftEnd: Double?
    public var maxDuration: Double?
    /// facility_location: the farthest a customer may be from its facility (metres).
    public var maxDistance: Double?
    /// A name to cancel the solve by while it runs (`POST /solves/{id}/cancel`).
    public var id: String?
    /// Where to write the model, the result and the solver's log, as `OUTPUT/<timestamp>/`.
    public var output: String?
    public var message: String?

    public init(kind: String) { self.kind = kind }
}

/// A Solve's answer: the result in one shape whatever the solver, the inputs read, and what was
/// written.
public struct SolveResponse: Sendable, Encodable {
    public let kind: String
    public let commit: String
    public let inputs: [RunInput]
    public let result: SolveResult
    public let routes: RoutingSolution?
    public let assignments: [String: String]?
    /// The folder written, with the commit that wrote it.
    public let folder: String?
    public let output: CommitOutcome?
}

/// A solve in progress, as listed for cancelling.
public struct RunningSolve: Sendable, Codable, Equatable {
    public let id: String
    public let kind: String
    public let project: String
    public let principal: String
    public let started: String
}

extension ComputeArea {
    static let solveKinds = ["linear", "routing", "facility_location", "crew_assignment"]

    /// Solves a problem (needs `solve`, and `read` of what it reads). Without `output` nothing is
    /// written; with it, `OUTPUT/<timestamp>/` gets the model, the result with its provenance, and
    /// the solver's log, in one governed commit.
    public func solve(_ caller: Caller, project name: String, _ request: SolveRequest) async throws -> SolveResponse {
        guard Self.solveKinds.contains(request.kind) else {
            throw CairnError(
                .invalidArgument,
                "unknown kind '\(request.kind)': use \(Self.solveKinds.joined(separator: ", "))",
                details: ["kind": request.kind]
            )
        }
        let ref = request.ref ?? "main"
        let (project, _) = try await core.open(caller, name, .solve, branch: Gateway.branch(of: ref), action: "solve.\(request.kind)")
        let commit = try await project.resolve(ref).commit
        let limit = request.timeLimit ?? 60
        guard limit > 0, limit <= 86_400 else { throw CairnError(.invalidArgument, "timeLimit is seconds, more than 0 and at most a day") }
        guard (request.gap ?? 0) >= 0 else { throw CairnError(.invalidArgument, "gap is a relative tolerance ≥ 0") }
        guard (1...1_000_000).contains(request.iterations ?? 1) else {
            throw CairnError(.invalidArgument, "iterations is between 1 and 1,000,000")
        }
        if let id = request.id,
            id.isEmpty || id.count > 64 || !id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
        {
            throw CairnError(.invalidArgument, "a solve id is 1–64 letters, digits, '.', '_' or '-'")
        }
        let solver = request.solver ?? "auto"
        guard ["auto", "glpk", "cbc"].contains(solver) else {
            throw CairnError(.invalidArgument, "solver is auto, glpk or cbc, not '\(solver)'", details: ["solver": solver])
        }
        let control = SolveControl(timeLimit: limit, gapTolerance: request.gap ?? 0)
        let id = request.id ?? UUID().uuidString.lowercased()
        let entry = RunningSolve(
            id: id,
            kind: request.kind,
            project: name,
            principal: caller.principal.subject,
            started: Clock.rfc3339(Clock.nowMillis())
        )
        let slot = caller.principal.limitKey
        try caches.heavyJobs.take(slot)
        defer { caches.heavyJobs.release(slot) }
        try caches.runningSolves.withLock { running in
            guard running[id] == nil else { throw CairnError(.conflict, "a solve named '\(id)' is already running") }
            running[id] = (entry, control)
        }
        defer { _ = caches.runningSolves.withLock { $0.removeValue(forKey: id) } }

        // A long search tells the project's feed how it stands, at most once a second.
        let lastAnnounced = Atomic<UInt64>(0)
        let feed = core.feed
        let organization = caller.organization.id
        let actor = caller.principal.subject
        let branch = Gateway.branch(of: ref) ?? "main"
        let announce: @Sendable (SolveResult.Progress) -> Void = { step in
            let now = DispatchTime.now().uptimeNanoseconds
            let last = lastAnnounced.load(ordering: .relaxed)
            guard now - last >= 1_000_000_000 || last == 0 else { return }
            lastAnnounced.store(now, ordering: .relaxed)
            var event = ChangeEvent(
                project: name,
                branch: branch,
                commit: nil,
                paths: [],
                actor: actor,
                action: "solve.progress",
                time: Clock.rfc3339(Clock.nowMillis())
            )
            event.solve = id
            event.progress = step
            feed.publish(organization: organization, event)
        }
        var inputs: [RunInput] = []
        var modelText = ""
        var log = ""
        var routes: RoutingSolution?
        var assignments: [String: String]?
        let result: SolveResult
        do {
            switch request.kind {
            case "linear":
                let (text, format) = try await modelSource(caller, name, request, at: commit, inputs: &inputs)
                modelText = text
                if format == "json" {
                    let model = try decodeModel(LinearModel.self, text)
                    (result, log) = try await solving(control) {
                        try await mip(model, solver: solver, control: control, announce: announce)
                    }
                } else {
                    guard solver != "cbc" else {
                        throw CairnError(
                            .invalidArgument,
                            "CBC takes models in Cairn's JSON form; LP and MPS text is solved by GLPK (solver auto or glpk)",
                            details: ["solver": solver, "format": format]
                        )
                    }
                    (result, log) = try await solving(control) {
                        try await GLPK.solve(text: text, format: format == "lp" ? .lp : .mps, control: control)
                    }
                }
            case "routing":
                let problem: RoutingProblem
                if request.input != nil || request.model != nil {
                    let (text, _) = try await modelSource(caller, name, request, at: commit, inputs: &inputs)
                    problem = try decodeModel(RoutingProblem.self, text)
                } else {
                    problem = try await routingProblem(caller, project, name, request, at: commit, inputs: &inputs)
                }
                modelText = try Self.json(problem).text
                let seed = request.seed ?? 1
                let iterations = request.iterations
                let solved = try await solving(control) {
                    try await Offload.run { _ in try RoutingSolver.solve(problem, seed: seed, iterations: iterations, control: control) }
                }
                routes = solved.solution
                result = solved.result
                log = "\(solved.solution.iterations) iterations; stopped by \(solved.solution.stoppedBy); cost \(solved.solution.cost)\n"
            default:
                let built = try await assignmentModel(caller, project, name, request, at: commit, inputs: &inputs)
                modelText = try Self.json(built.model).text
                var solved: SolveResult
                (solved, log) = try await solving(control) {
                    try await mip(built.model, solver: solver, control: control, announce: announce)
                }
                var chosen: [String: String] = [:]
                for ((customer, facility), variable) in built.assignments where (solved.values[variable] ?? 0) > 0.5 {
                    chosen[customer] = facility
                }
                assignments = chosen
                solved.detail = ["assignments": .object(chosen.mapValues(SolveDetail.text))]
                result = solved
            }
        } catch let e as SolveError {
            switch e.kind {
            case .invalidModel: throw CairnError(.invalidArgument, e.message, details: ["reason": "invalid_model"])
            case .cancelled: throw CairnError(.unprocessable, e.message, details: ["reason": "cancelled"])
            case .solverFailed: throw CairnError(.unprocessable, e.message, details: ["reason": "solver_failed"])
            }
        }

        var folder: String?
        var written: CommitOutcome?
        if let output = request.output {
            let stamp = Clock.rfc3339(Clock.nowMillis()).replacingOccurrences(of: ":", with: "-")
            let dir = (output.hasSuffix("/") ? String(output.dropLast()) : output) + "/" + stamp + "-" + id.prefix(8)
            let provenance: JSONValue = .object([
                "kind": .string(request.kind), "commit": .string(commit.hex), "ref": .string(ref),
                "inputs": .array(inputs.map { .object(["path": .string($0.path), "blob": .string($0.blob)]) }),
                "parameters": try Self.json(SolveParameters(request)), "result": try Self.json(result),
                "routes": try routes.map { try Self.json($0) } ?? .null, "assignments": try assignments.map { try Self.json($0) } ?? .null,
            ])
            let modelName = request.kind == "linear" ? "model." + (try formatOf(request)) : "model.json"
            var writer = caller
            writer.reason = request.message ?? caller.reason ?? "solve \(request.kind)"
            caller.call?.draft.note(reads: inputs, readAt: commit.hex, stable: Self.stableAnswer(result))
            let files: [FileChange] = [
                .write(path: "\(dir)/\(modelName)", content: Array(modelText.utf8)),
                .write(path: "\(dir)/result.json", content: Array(provenance.text.utf8)),
                .write(path: "\(dir)/solver.log", content: Array(log.utf8)),
            ]
            written = try await core.commit(
                writer,
                project: name,
                changes: files,
                branch: Gateway.branch(of: ref) ?? "main",
                action: "solve.output"
            )
            folder = dir
        }
        return SolveResponse(
            kind: request.kind,
            commit: commit.hex,
            inputs: inputs,
            result: result,
            routes: routes,
            assignments: assignments,
            folder: folder,
            output: written
        )
    }

    /// What identifies a solve's answer across executions: its status and objective (the
    /// values may differ between equally optimal solutions).
    package static func stableAnswer(_ result: SolveResult) -> String {
        "\(result.status.rawValue) \(result.objective.map { String(format: "%.6g", $0) } ?? "-")"
    }

    /// The solves running now (needs `solve` on each one's project, like starting one).
    /// Solves running now on this server, in every organization (for `/metrics`).
    public var runningSolveCount: Int { caches.runningSolves.withLock { $0.count } }

    /// The solves running now in a project (needs `solve`), for finding one to cancel.
    public func runningSolves(_ caller: Caller, project name: String) async throws -> [RunningSolve] {
        _ = try await core.open(caller, name, .solve, action: "solve.list")
        return caches.runningSolves.withLock { $0.values.map(\.0) }.filter { $0.project == name }.sorted { $0.started < $1.started }
    }

    /// Cancels a running solve: its solver stops at its next check and answers with what it has.
    public func cancelSolve(_ caller: Caller, project name: String, id: String) async throws {
        _ = try await core.open(caller, name, .solve, action: "solve.cancel")
        guard let control = caches.runningSolves.withLock({ $0[id].flatMap { $0.0.project == name ? $0.1 : nil } }) else {
            throw CairnError(.notFound, "no solve named '\(id)' is running in \(name)")
        }
        control.cancel()
    }

    struct SolveParameters: Encodable {
        let kind: String, input: String?, format: String?, solver: String?, timeLimit: Double?, gap: Double?, seed: UInt64?
        let iterations: Int?
        let stops: String?, depots: String?, roads: String?, vehicles: Int?, capacity: Double?, shiftEnd: Double?, maxDistance: Double?
        init(_ r: SolveRequest) {
            (kind, input, format, timeLimit, gap, seed, iterations) = (r.kind, r.input, r.format, r.timeLimit, r.gap, r.seed, r.iterations)
            solver = r.solver
            (stops, depots, roads, vehicles, capacity, shiftEnd, maxDistance) = (
                r.stops, r.depots, r.roads, r.vehicles, r.capacity, r.shiftEnd, r.maxDistance
            )
        }
    }

    /// A linear or mixed-integer model, by the stated rule: CBC for a model with integer variables
    /// (it proves optimality where GLPK's branch-and-cut stalls), GLPK for a linear program (it
    /// gives duals and reduced costs); `solver` overrides it.
    func mip(
        _ model: LinearModel,
        solver: String,
        control: SolveControl,
        announce: @escaping @Sendable (SolveResult.Progress) -> Void
    ) async throws -> (SolveResult, String) {
        if solver == "cbc" || (solver == "auto" && model.isMixedInteger) {
            let (result, log) = try await CBC.solve(model, control: control, progress: announce)
            return (result, log)
        }
        let (result, log) = try await GLPK.solve(model, control: control, progress: announce)
        return (result, log)
    }

    /// Runs a solver, passing a cancelled task on as a cancelled solve.
    func solving<T: Sendable>(_ control: SolveControl, _ body: @Sendable () async throws -> T) async throws -> T {
        try await withTaskCancellationHandler {
            try await body()
        } onCancel: {
            control.cancel()
        }
    }

    func formatOf(_ request: SolveRequest) throws -> String {
        let format = request.format ?? request.input.map { ($0 as NSString).pathExtension.lowercased() } ?? "json"
        guard ["json", "lp", "mps"].contains(format) else {
            throw CairnError(.invalidArgument, "format is json, lp or mps, not '\(format)'")
        }
        return format
    }

    /// The model's text, from the inline model or the input file, and its format.
    func modelSource(
        _ caller: Caller,
        _ name: String,
        _ request: SolveRequest,
        at commit: ObjectID,
        inputs: inout [RunInput]
    ) async throws -> (String, String) {
        let format = try formatOf(request)
        if let model = request.model {
            if case .string(let text) = model { return (text, format) }
            return (model.text, "json")
        }
        guard let path = request.input else {
            throw CairnError(.invalidArgument, "\(request.kind) needs a model: give input (a file) or model (inline)")
        }
        let (_, blob, bytes) = try await core.readBytes(caller, project: name, path: path, at: commit.hex)
        inputs.append(RunInput(path: path, blob: blob.hex))
        return (String(decoding: bytes, as: UTF8.self), format)
    }

    func decodeModel<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch let DecodingError.keyNotFound(key, context) {
            throw CairnError(.invalidArgument, "the model misses '\(key.stringValue)' at \(Self.where(context))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context), let DecodingError.dataCorrupted(
            context
        )
        {
            throw CairnError(.invalidArgument, "the model is malformed at \(Self.where(context)): \(context.debugDescription)")
        }
    }

    static func `where`(_ context: DecodingError.Context) -> String {
        context.codingPath.isEmpty
            ? "its top level" : context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}
