import CairnCompute
import CairnCore
import CairnStore
import Crypto
import Foundation

/// A Run: one deterministic geo-math function over the world model at one commit.
public struct RunRequest: Sendable, Decodable {
    /// distance, length, area, centroid, bbox, contains, nearest, snap, route, isochrone,
    /// routes (a batch of origin–destination pairs) or matrix (every origin to every destination).
    public var function: String
    /// The commit read (a ref); `main` by default.
    public var ref: String?
    /// Points, as [longitude, latitude].
    public var points: [[Double]]?
    /// Geometry files (paths or globs) and inline GeoJSON, for the geometry functions; for
    /// distance, snap, route and isochrone, Point files add to `points`.
    public var inputs: [String]?
    public var geometry: JSONValue?
    /// The road network: a glob of GeoJSON LineString files with OSM tags (default `roads/**`).
    public var roads: String?
    /// Only these `highway` classes (`drivable` stands for the motor-vehicle classes).
    public var classes: [String]?
    public var weight: String?
    /// Isochrone budget: metres, or seconds with weight `time`.
    public var budget: Double?
    /// For `routes`: the [origin, destination] pairs, each a point.
    public var pairs: [[[Double]]]?
    /// For `matrix`: the destinations (the `points` are the origins); the origins when absent.
    public var destinations: [[Double]]?
    /// `summary` (the default): the road files are named by the road set's content id and count;
    /// `full`: also listed one by one in `inputs`, each with its blob.
    public var provenance: String?
    /// Where to also write the result, as an ordinary governed write with its provenance.
    public var output: String?
    public var message: String?

    public init(function: String) { self.function = function }
}

/// A Run's answer with its provenance: the commit and every input file read, so it can be replayed
/// exactly.
public struct RunResult: Sendable, Encodable {
    public let function: String
    /// The commit the inputs were read at.
    public let commit: String
    /// Each input file with the blob it was read as: with `roads`, enough to replay the Run
    /// exactly. Road files are listed only with provenance `full`.
    public let inputs: [RunInput]
    /// The road files a road function read, named by one content id.
    public let roads: RunRoads?
    public let result: JSONValue
    public let output: CommitOutcome?
    /// The road files read but not listed in `inputs` (provenance `summary`): the road set's own
    /// list, shared, not copied for each answer.
    let roadFiles: [RunInput]
    /// Every file the Run read, road files included whatever the provenance shown: what a run's
    /// record notes for lineage and replay. Not part of the answer, so built only when asked.
    public var read: [RunInput] { inputs + roadFiles }

    enum CodingKeys: String, CodingKey { case function, commit, inputs, roads, result, output }
}

/// A road set as provenance: the glob, how many files it matched at the commit, and the SHA-256
/// over their paths and blob ids in path order (the same files, the same id).
public struct RunRoads: Sendable, Codable, Equatable {
    public let id: String
    public let glob: String
    public let files: Int
}

/// A file read, with the blob it was read as.
public struct RunInput: Sendable, Codable, Equatable {
    public let path: String
    public let blob: String

    public init(path: String, blob: String) {
        self.path = path
        self.blob = blob
    }
}

extension ComputeArea {
    static let pointFunctions: Set<String> = ["distance", "snap", "route", "isochrone", "matrix"]
    static let runFunctions = [
        "distance", "length", "area", "centroid", "bbox", "contains", "nearest", "snap", "route", "isochrone", "routes", "matrix",
    ]
    /// The most a batch may ask in one request: pairs of `routes`, cells of `matrix`.
    public static let maxPairs = 10_000
    public static let maxMatrixCells = 250_000

    /// Runs a function (needs `run`, and `read` of what it reads). Without `output` nothing is
    /// written; with it, the result and its provenance (function, parameters, inputs with their
    /// blob ids, the commit read) are written there as a governed write.
    public func run(_ caller: Caller, project name: String, _ request: RunRequest) async throws -> RunResult {
        guard Self.runFunctions.contains(request.function) else {
            throw CairnError(
                .invalidArgument,
                "unknown function '\(request.function)': use \(Self.runFunctions.joined(separator: ", "))",
                details: ["function": request.function]
            )
        }
        let ref = request.ref ?? "main"
        let (project, _) = try await core.open(caller, name, .run, branch: Gateway.branch(of: ref), action: "run.\(request.function)")
        let commit = try await project.resolve(ref).commit
        var inputs: [RunInput] = []
        var roadSet: RunRoads?
        /// Road files read but not listed in `inputs` (provenance `summary`).
        var roadFiles: [RunInput] = []
        func coordinate(_ p: [Double]) throws -> Coordinate {
            guard p.count == 2, Coordinate(lon: p[0], lat: p[1]).isValid else {
                throw CairnError(
                    .invalidArgument,
                    "a point is [longitude, latitude] within −180…180, −90…90",
                    details: ["point": "\(p)"]
                )
            }
            return Coordinate(lon: p[0], lat: p[1])
        }
        var points = try (request.points ?? []).map(coordinate)
        let full: Bool
        switch request.provenance ?? "summary" {
        case "summary": full = false
        case "full": full = true
        case let p: throw CairnError(.invalidArgument, "provenance is summary or full, not '\(p)'", details: ["provenance": p])
        }
        let weight: RoadGraph.Weight
        switch request.weight ?? "distance" {
        case "distance": weight = .distance
        case "time": weight = .time
        case let w: throw CairnError(.invalidArgument, "weight is distance or time, not '\(w)'")
        }

        /// The geometries to work on, each with where it came from (its path, or `geometry`).
        func features() async throws -> [(id: String, geometry: Geometry)] {
            var out: [(String, Geometry)] = []
            if let g = request.geometry {
                out.append(("geometry", try compute { try Geometry.parse(try JSONSerialization.jsonObject(with: Data(g.text.utf8))) }))
            }
            for pattern in request.inputs ?? [] {
                for path in try await expand(caller, name, pattern, at: commit.hex) {
                    let (_, blob, bytes) = try await core.readBytes(caller, project: name, path: path, at: commit.hex)
                    inputs.append(RunInput(path: path, blob: blob.hex))
                    out.append((path, try compute { try Geometry.parse(try JSONSerialization.jsonObject(with: Data(bytes))) }))
                }
            }
            guard !out.isEmpty else {
                throw CairnError(.invalidArgument, "\(request.function) needs a geometry: give inputs (paths or globs) or geometry")
            }
            return out
        }
        func geometries() async throws -> [Geometry] { try await features().map(\.geometry) }
        // The point functions also take their points from files: each input's Point (or
        // MultiPoint) after the `points` given inline, in the order of the inputs and of the
        // paths a glob matches.
        if Self.pointFunctions.contains(request.function) && (!(request.inputs ?? []).isEmpty || request.geometry != nil) {
            for (id, g) in try await features() {
                switch g {
                case .point(let p): points.append(p)
                case .multiPoint(let ps): points += ps
                default: throw CairnError(.invalidArgument, "\(request.function) takes points: \(id) is not a Point", details: ["path": id])
                }
            }
        }
        func needPoints(_ n: Int) throws {
            guard points.count >= n else { throw CairnError(.invalidArgument, "\(request.function) needs at least \(n) point(s)") }
        }

        let result: JSONValue
        switch request.function {
        case "distance":
            try needPoints(2)
            let legs = zip(points, points.dropFirst()).map { (Haversine.distance($0.0, $0.1), Geodesic.wgs84.distance($0.0, $0.1)) }
            let haversine = legs.reduce(0) { $0 + $1.0 }
            let geodesic = legs.reduce(0) { $0 + $1.1 }
            result = .object([
                "haversine": .double(haversine), "geodesic": .double(geodesic),
                "legs": .array(legs.map { JSONValue.object(["haversine": .double($0.0), "geodesic": .double($0.1)]) }),
            ])
        case "length":
            let lengths = try await geometries().map { g -> (Double, Double) in
                let lines: [[Coordinate]]
                switch g {
                case .lineString(let l): lines = [l]
                case .multiLineString(let ls): lines = ls
                default: lines = []
                }
                return (lines.reduce(0) { $0 + Haversine.length($1) }, lines.reduce(0) { $0 + Geodesic.wgs84.length($1) })
            }
            let haversine = lengths.reduce(0) { $0 + $1.0 }
            let geodesic = lengths.reduce(0) { $0 + $1.1 }
            result = .object([
                "haversine": .double(haversine), "geodesic": .double(geodesic),
                "each": .array(lengths.map { JSONValue.object(["haversine": .double($0.0), "geodesic": .double($0.1)]) }),
            ])
        case "area":
            let areas = try await geometries().map { Geodesic.wgs84.area($0) }
            result = .object(["geodesic": .double(areas.reduce(0, +)), "each": .array(areas.map(JSONValue.double)), "unit": .string("m2")])
        case "centroid":
            let gs = try await geometries()
            guard let c = Planar.centroid(gs.count == 1 ? gs[0] : .collection(gs)) else {
                throw CairnError(.invalidArgument, "the geometry is empty")
            }
            result = .object(["type": .string("Point"), "coordinates": .array([.double(c.lon), .double(c.lat)])])
        case "bbox":
            let gs = try await geometries()
            guard let b = Planar.bbox(.collection(gs)) else { throw CairnError(.invalidArgument, "the geometry is empty") }
            result = .array([.double(b.minLon), .double(b.minLat), .double(b.maxLon), .double(b.maxLat)])
        case "contains":
            try needPoints(1)
            let polygons = try await geometries().flatMap { g -> [[[Coordinate]]] in
                switch g {
                case .polygon(let rs): [rs]
                case .multiPolygon(let ps): ps
                default: []
                }
            }
            guard !polygons.isEmpty else { throw CairnError(.invalidArgument, "contains needs a Polygon or MultiPolygon") }
            result = .array(points.map { p in .bool(polygons.contains { Planar.contains($0, p) }) })
        case "nearest":
            try needPoints(1)
            let index = FeatureIndex(try await features().map { FeatureIndex.Feature(id: $0.id, geometry: $0.geometry) })
            result = try Self.json(try compute { try points.map { try index.nearest(to: $0) } })
        default:
            // The batch's size is checked before any road is read.
            let pairs = try (request.pairs ?? []).map { pair -> (Coordinate, Coordinate) in
                guard pair.count == 2 else {
                    throw CairnError(.invalidArgument, "a pair is [origin, destination], each [longitude, latitude]")
                }
                return (try coordinate(pair[0]), try coordinate(pair[1]))
            }
            let destinations = try request.destinations.map { try $0.map(coordinate) }
            switch request.function {
            case "routes":
                guard !pairs.isEmpty, pairs.count <= Self.maxPairs else {
                    throw CairnError(.invalidArgument, "routes takes 1 to \(Self.maxPairs) pairs", details: ["pairs": "\(pairs.count)"])
                }
            case "matrix":
                try needPoints(1)
                let cells = points.count * (destinations ?? points).count
                guard cells <= Self.maxMatrixCells, !(destinations ?? points).isEmpty else {
                    throw CairnError(
                        .invalidArgument,
                        "a matrix has 1 to \(Self.maxMatrixCells) cells (origins × destinations); this one has \(cells)",
                        details: ["cells": "\(cells)"]
                    )
                }
            default: break
            }
            let glob = request.roads ?? "roads/**"
            let (network, roads) = try await roadNetwork(
                caller,
                project,
                name: name,
                branch: Gateway.branch(of: ref),
                commit: commit,
                glob: glob,
                classes: request.classes
            )
            roadSet = RunRoads(id: roads.id, glob: glob, files: roads.files.count)
            if full { inputs += roads.files } else { roadFiles = roads.files }
            switch request.function {
            case "snap":
                try needPoints(1)
                result = .array(try compute { try points.map { try network.snap($0).json } })
            case "route":
                try needPoints(2)
                let route = try compute { try network.route(through: points, weight: weight) }
                var r = route.json
                if case .object(var o) = r {
                    o["geometry"] = .object([
                        "type": .string("LineString"),
                        "coordinates": .array(route.coordinates.map { .array([.double($0.lon), .double($0.lat)]) }),
                    ])
                    r = .object(o)
                }
                result = r
            case "routes":
                let legs = try await caches.heavyJobs.holding(caller.principal.limitKey) {
                    try await Offload.run { stopped in
                        try self.compute { try network.routes(pairs, weight: weight, isCancelled: stopped) }
                    }
                }
                result = .object(["legs": .array(legs.map(\.json)), "unit": .string(weight == .distance ? "m" : "s")])
            case "matrix":
                let (from, to) = (points, destinations ?? points)
                let (costs, _, origins, ends) = try await caches.heavyJobs.holding(caller.principal.limitKey) {
                    try await Offload.run { stopped in
                        try self.compute { try network.matrix(from: from, to: to, weight: weight, isCancelled: stopped) }
                    }
                }
                result = .object([
                    "costs": .array(costs.map { row in .array(row.map { $0.map(JSONValue.double) ?? .null }) }),
                    "weight": .string(weight.rawValue),
                    "unit": .string(weight == .distance ? "m" : "s"),
                    "origins": .array(origins.map(\.json)),
                    "destinations": .array(ends.map(\.json)),
                ])
            default:
                try needPoints(1)
                guard let budget = request.budget else {
                    throw CairnError(.invalidArgument, "isochrone needs a budget (metres, or seconds with weight time)")
                }
                // A large budget reaches the whole graph: on a thread of its own, as batches do
                // (one search, bounded by the graph, so it takes no heavy-job slot).
                let origin = points[0]
                let iso = try await Offload.run { _ in
                    try self.compute { try network.isochrone(from: origin, budget: budget, weight: weight) }
                }
                var r = iso.json
                if case .object(var o) = r {
                    o["polygon"] = .object([
                        "type": .string("Polygon"),
                        "coordinates": .array([.array(iso.hull.map { .array([.double($0.lon), .double($0.lat)]) })]),
                    ])
                    o["hullKind"] = .string("convex")
                    r = .object(o)
                }
                result = r
            }
        }

        var written: CommitOutcome?
        if let output = request.output {
            let provenance: JSONValue = .object([
                "function": .string(request.function), "commit": .string(commit.hex), "ref": .string(ref),
                "inputs": .array(inputs.map { .object(["path": .string($0.path), "blob": .string($0.blob)]) }),
                "roads": try roadSet.map { try Self.json($0) } ?? .null,
                "parameters": try Self.json(Parameters(request)), "result": result,
            ])
            var writer = caller
            writer.reason = request.message ?? caller.reason ?? "run \(request.function)"
            caller.call?.draft.note(reads: inputs + roadFiles, readAt: commit.hex, stable: result.text)
            written = try await core.write(
                writer,
                project: name,
                path: output,
                content: Array(provenance.text.utf8),
                branch: Gateway.branch(of: ref) ?? "main"
            )
        }
        return RunResult(
            function: request.function,
            commit: commit.hex,
            inputs: inputs,
            roads: roadSet,
            result: result,
            output: written,
            roadFiles: roadFiles
        )
    }

    /// The parameters recorded with a written result.
    struct Parameters: Encodable {
        let points: [[Double]]?, roads: String?, classes: [String]?, weight: String?, budget: Double?, geometry: JSONValue?
        let pairs: [[[Double]]]?, destinations: [[Double]]?
        init(_ r: RunRequest) {
            (points, roads, classes, weight, budget, geometry) = (r.points, r.roads, r.classes, r.weight, r.budget, r.geometry)
            (pairs, destinations) = (r.pairs, r.destinations)
        }
    }

    static func json(_ value: some Encodable) throws -> JSONValue {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return JSONValue.parse(Array(try e.encode(value))) ?? .null
    }

    /// Maps the compute layer's errors to the one error model.
    func compute<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as ComputeError {
            switch e.kind {
            case .invalidInput: throw CairnError(.invalidArgument, e.message)
            case .emptyNetwork: throw CairnError(.invalidArgument, e.message, details: ["reason": "empty_network"])
            case .unreachable: throw CairnError(.unprocessable, e.message, details: ["reason": "unreachable"])
            case .cancelled: throw CairnError(.timeout, e.message)
            }
        } catch let e as CairnError {
            throw e
        } catch {
            throw CairnError(.invalidArgument, "the GeoJSON is not valid JSON")
        }
    }

    /// Paths a pattern names at a commit: itself, or what a glob matches (that the caller may read).
    func expand(_ caller: Caller, _ name: String, _ pattern: String, at ref: String) async throws -> [String] {
        guard Glob.hasWildcards(pattern) else { return [pattern] }
        var out: [String] = []
        var cursor: String?
        repeat {
            let page = try await core.glob(caller, project: name, pattern: pattern, at: ref, limit: 5000, after: cursor)
            out += page.paths
            cursor = page.next
        } while cursor != nil && out.count <= 200_000
        return out
    }

    /// The road network of the files a glob matches at a commit, with the road set it was built
    /// from (see `RoadCache`): a network is built once per content and shared by every Run on
    /// it; a road set already resolved at this commit, or at one whose changes since touch none
    /// of the glob's files, is used without reading each file's entry again.
    func roadNetwork(
        _ caller: Caller,
        _ project: Project,
        name: String,
        branch: String?,
        commit: ObjectID,
        glob pattern: String,
        classes: [String]?
    ) async throws -> (network: RoadNetwork, roads: RoadCache.RoadSet) {
        try core.checkPattern(pattern)
        let classSet: Set<String>? = classes.map { Set($0.flatMap { $0 == "drivable" ? Array(Road.drivable) : [$0] }) }
        // Reading the roads needs `read`, whether or not their entries are looked up again.
        try await core.authorize(caller, .read, AccessTarget(project: name, branch: branch), action: "file.glob")
        let scoped = try await core.policy(for: caller).hasPathRules(caller.principal, project: name)
        let id = project.record.id
        var found = scoped ? nil : caches.roads.set(project: id, commit: commit, glob: pattern)
        if found == nil, !scoped, let last = caches.roads.latest(project: id, glob: pattern),
            try await roadsUnchanged(project, from: last.commit, to: commit, glob: pattern)
        {
            found = last.set
            caches.roads.remember(last.set, project: id, commit: commit, glob: pattern)
        }
        let roads: RoadCache.RoadSet
        var staged: StagedCommit?
        if let found {
            roads = found
        } else {
            let stage = try await project.stage(at: commit.hex)
            staged = stage
            let paths = try await expand(caller, name, pattern, at: commit.hex).filter { !$0.hasPrefix(".cairn/") }
            if paths.isEmpty, scoped {
                // Said without naming anything the caller may not see: only that its scope holds no roads.
                throw CairnError(
                    .invalidArgument,
                    "no road file matching '\(pattern)' is within your access: a path-limited credential routes only on the roads it "
                        + "may read (ask for a key whose path covers the road files)",
                    details: ["roads": pattern]
                )
            }
            var files: [RunInput] = []
            for path in paths {
                guard let blob = try await stage.blob(path) else { continue }
                files.append(RunInput(path: path, blob: blob.hex))
            }
            roads = RoadCache.RoadSet(files: files)
            if !scoped { caches.roads.remember(roads, project: id, commit: commit, glob: pattern) }
        }
        let key = roads.id + "|" + (classSet.map { $0.sorted().joined(separator: ",") } ?? "*")
        if let known = caches.roads.network(key) { return (known, roads) }
        let stage = if let staged { staged } else { try await project.stage(at: commit.hex) }
        let contents = try await stage.read(roads.files.map(\.path))
        let files = roads.files
        // Parsing every road file and building the graph takes a fraction of a second on a
        // city's roads: on a thread of its own, not on the executor that serves other requests.
        let network = try await Offload.run { stopped in
            var parsed: [Road] = []
            for file in files {
                if stopped() { throw CancellationError() }
                guard let bytes = contents[file.path] ?? nil, let f = try? JSONSerialization.jsonObject(with: Data(bytes)),
                    let road = Road(feature: f, fallbackID: file.path)
                else { continue }
                parsed.append(road)
            }
            return try self.compute { try RoadNetwork(roads: parsed, classes: classSet) }
        }
        caches.roads.remember(network, key: key)
        return (network, roads)
    }

    /// Whether no file a glob matches changed between two commits: a diff of their trees, which
    /// costs what changed, not what is there. Many changes answer false (gathering anew is then as cheap).
    func roadsUnchanged(_ project: Project, from: ObjectID, to: ObjectID, glob pattern: String) async throws -> Bool {
        if from == to { return true }
        let diff = try await project.diff(from: from.hex, to: to.hex, json: false, limit: RoadCache.maxDiff)
        guard diff.next == nil else { return false }
        let glob = try Glob(pattern)
        return !diff.files.contains { glob.matches($0.path) }
    }
}
