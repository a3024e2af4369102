import CairnCompute
import CairnCore
import CairnOntology
import CairnStore

/// A collection of features as OGC API – Features names it: an entity type of the project's
/// ontology, or (without one) a top-level folder.
public struct FeatureCollection: Sendable, Equatable {
    public let id: String
    public let title: String
    /// The files it holds: a glob, and for an entity type the type that must govern each file.
    let glob: String
    let entityType: String?
    /// What it holds as the caller sees it (count, extent, properties), where it was asked for.
    public internal(set) var summary: FeatureSummary?
    /// The systems its features are served in: CRS84 (as stored) first, EPSG:4326, and those the
    /// project's ontology declares.
    public internal(set) var systems: [CoordinateSystem] = [.crs84, .epsg4326]
}

/// One page of a collection's items at one commit.
public struct FeaturePage: Sendable {

    /// The commit read: the next page reads the same one, so paging never skips or repeats a
    /// feature while others write.
    public let commit: String
    /// GeoJSON Features, each with the file's path as its `id`.
    public let features: [JSONValue]
    /// Where the next page starts (an opaque cursor), nil on the last page.
    public let next: String?
    /// How many features the query matches in all (every page together), when known without a
    /// scan: for the whole collection, not under a bbox or a property filter.
    public let matched: Int?
}

/// A collection's features counted per cell of a grid over a box (see `FeaturesArea.cells`).
public struct FeatureCells: Sendable {
    public let commit: String
    /// The box the grid covers (west, south, east, north in degrees); nil for an empty collection.
    public let bbox: [Double]?
    public let columns: Int
    public let rows: Int
    /// The features meeting the box, in all cells together.
    public let matched: Int
    /// The cells holding at least one feature (column 0 is west, row 0 south), in row order.
    public let cells: [Cell]

    public struct Cell: Sendable {
        public let column: Int
        public let row: Int
        public let count: Int
        /// The mean centre of the features counted, where a map draws the cell.
        public let lon: Double
        public let lat: Double
    }
}

/// The features area: the project's GeoJSON files served as OGC API – Features collections for
/// GIS tools (QGIS, GDAL, OWSLib). Every list and every feature is read through the core, so a
/// key scoped to some paths sees only those features, in lists, pages, counts and extents alike.
/// Collection summaries are kept per commit (see `SummaryCache`), nothing else between calls.
public struct FeaturesArea: Sendable {
    /// The Gateway whose core this area calls.
    let core: Gateway

    /// The most items one page may hold (OGC API – Features suggests 10,000).
    public static let maxLimit = 10_000

    /// What the features area remembers between calls; one per Gateway.
    final class Caches: Sendable {
        let summaries = SummaryCache()
    }

    /// The commit `ref` names, with `read` on the project (and its branch) authorized: what the
    /// landing page needs, without looking at any collection.
    public func resolve(_ caller: Caller, project name: String, ref: String) async throws -> String {
        let (project, _) = try await core.open(caller, name, .read, branch: Gateway.branch(of: ref), action: "features.read")
        return try await project.resolve(ref).commit.hex
    }

    /// The collections at `ref`, each with its summary: the ontology's entity types matched by a
    /// path glob, or without an ontology each top-level folder holding a file the caller may read.
    public func collections(
        _ caller: Caller,
        project name: String,
        at ref: String = "main"
    ) async throws -> (
        commit: String, collections: [FeatureCollection]
    ) {
        let state = try await state(caller, project: name, at: ref)
        var found: [FeatureCollection] = []
        if let ontology = state.ontology {
            found = Self.typeCollections(ontology)
        } else {
            var folders: Set<String> = []
            var cursor: String?
            repeat {
                let page = try await core.glob(caller, project: name, pattern: "*/**", at: state.commit, limit: 5000, after: cursor)
                for path in page.paths {
                    if let first = path.split(separator: "/").first, Self.isFolderID(String(first)) { folders.insert(String(first)) }
                }
                cursor = page.next
            } while cursor != nil
            found = folders.sorted().map(Self.folder)
        }
        var shown: [FeatureCollection] = []
        for var c in found {
            c.systems = Self.systems(state.ontology)
            c.summary = try await summary(caller, project: name, c, state)
            if try await self.shown(c, caller, project: name, state) { shown.append(c) }
        }
        return (state.commit, shown)
    }

    /// One collection with its summary, or `not_found`.
    public func collection(
        _ caller: Caller,
        project name: String,
        id: String,
        at ref: String = "main"
    ) async throws -> (
        commit: String, collection: FeatureCollection
    ) {
        let (state, found) = try await lookup(caller, project: name, id: id, at: ref)
        var c = found
        c.summary = try await summary(caller, project: name, found, state)
        return (state.commit, c)
    }

    // MARK: Finding a collection

    /// What one request reads once: the commit `ref` names, the project's compiled ontology there
    /// (nil without one), and whether the caller is limited to some paths (and then who it is,
    /// under which access configuration: what its own summaries are kept under).
    struct State {
        let commit: String
        let ontology: CompiledOntology?
        let limited: Bool
        let viewer: String
    }

    private func state(_ caller: Caller, project name: String, at ref: String) async throws -> State {
        let commit = try await resolve(caller, project: name, ref: ref)
        let ontology = try await ontologyBytes(caller, project: name, at: commit).flatMap { try? core.ontology.compiled($0) }
        let policy = try await core.policy(for: caller)
        let limited = policy.hasPathRules(caller.principal, project: name)
        let p = caller.principal
        let viewer =
            limited
            ? [
                p.subject, p.kind.rawValue, p.credential, p.groups.joined(separator: ","), p.key?.id ?? "", p.onBehalfOf ?? "",
                policy.config.commit.hex,
            ].joined(separator: "\u{0}") : ""
        return State(commit: commit, ontology: ontology, limited: limited, viewer: viewer)
    }

    /// One collection found without listing the others: a type of the ontology by its id, or a
    /// folder by a one-path glob.
    private func lookup(_ caller: Caller, project name: String, id: String, at ref: String) async throws -> (State, FeatureCollection) {
        let state = try await state(caller, project: name, at: ref)
        let found: FeatureCollection?
        if let ontology = state.ontology {
            found = Self.typeCollections(ontology).first { $0.id == id }
        } else {
            found = Self.isFolderID(id) ? Self.folder(id) : nil
        }
        guard var found, try await shown(found, caller, project: name, state) else {
            throw CairnError(.notFound, "no collection '\(id)' in '\(name)'", details: ["collection": id])
        }
        found.systems = Self.systems(state.ontology)
        return (state, found)
    }

    /// CRS84, EPSG:4326, then the systems the ontology declares (each once).
    private static func systems(_ ontology: CompiledOntology?) -> [CoordinateSystem] {
        var out: [CoordinateSystem] = [.crs84, .epsg4326]
        for name in ontology?.ontology.crs ?? [] {
            if let s = CoordinateSystem(name), !out.contains(s) { out.append(s) }
        }
        return out
    }

    /// The system `name` if the collection is served in it; else `invalid_argument` listing them.
    public static func system(_ name: String?, of c: FeatureCollection, parameter: String) throws -> CoordinateSystem {
        guard let name else { return .crs84 }
        guard let s = CoordinateSystem(name), c.systems.contains(s) else {
            throw CairnError(
                .invalidArgument,
                "\(parameter) '\(name)' is not a system collection '\(c.id)' is served in; it is served in "
                    + c.systems.map(\.uri).joined(separator: ", "),
                details: ["parameter": parameter]
            )
        }
        return s
    }

    /// Features in `system` (positions in its own axis order), from the stored longitude, latitude.
    static func reproject(_ features: [JSONValue], to system: CoordinateSystem) throws -> [JSONValue] {
        guard system != .crs84 else { return features }
        let projection = try transformation(system)
        return try features.map { value in
            guard case .object(var f) = value, let geometry = f["geometry"] else { return value }
            guard let mapped = geometry.mapPositions({ projection.fromDegrees($0, $1) }) else {
                throw CairnError(
                    .invalidArgument,
                    "feature \(f["id"].map { $0.text } ?? "") has a position outside the area of \(system)",
                    details: ["crs": system.uri]
                )
            }
            f["geometry"] = mapped
            return .object(f)
        }
    }

    /// A box given in `system` (its axis order) as west, south, east, north in degrees.
    static func boxInDegrees(_ box: [Double], from system: CoordinateSystem) throws -> [Double] {
        guard system != .crs84 else { return box }
        guard let degrees = try transformation(system).boundsToDegrees(box) else {
            throw CairnError(.invalidArgument, "bbox cannot be read in \(system)", details: ["parameter": "bbox"])
        }
        return degrees
    }

    private static func transformation(_ system: CoordinateSystem) throws -> Reprojection {
        do { return try Reprojection.cached(system, axisOrder: .authority) } catch {
            throw CairnError(.invalidArgument, error.description, details: ["crs": system.uri])
        }
    }

    /// The ontology's entity types that can be served: those with a path glob and a geometry.
    private static func typeCollections(_ ontology: CompiledOntology) -> [FeatureCollection] {
        ontology.ontology.entityTypes.compactMap { type in
            guard type.geometry != GeometryKind.none, let glob = type.match.glob else { return nil }
            return FeatureCollection(id: type.id, title: type.label ?? type.id, glob: glob, entityType: type.id)
        }
    }

    private static func folder(_ id: String) -> FeatureCollection {
        FeatureCollection(id: id, title: id, glob: "\(id)/**", entityType: nil)
    }

    /// A top-level folder is a collection unless it is Cairn's own (`.cairn`) or its name would
    /// read as a glob.
    private static func isFolderID(_ id: String) -> Bool {
        !id.isEmpty && !id.contains("/") && !id.hasPrefix(".") && !Glob.hasWildcards(id)
    }

    /// Whether the caller is shown a collection: a folder when it holds a file the caller may
    /// read; an entity type always, except to a caller limited to some paths, who is shown only
    /// the types it can see a file of, so the list says nothing of the rest of the project.
    private func shown(
        _ c: FeatureCollection,
        _ caller: Caller,
        project name: String,
        _ state: State
    ) async throws -> Bool {
        if c.entityType != nil && !state.limited { return true }
        return try await !core.glob(caller, project: name, pattern: c.glob, at: state.commit, limit: 1).paths.isEmpty
    }

    // MARK: Summaries

    /// The collection's summary at the state's commit, as the caller sees it.
    func summary(_ caller: Caller, project name: String, _ c: FeatureCollection, _ state: State) async throws -> FeatureSummary {
        try await snapshot(caller, project: name, c, state).summary
    }

    /// The collection's summary and spatial index at the state's commit, as the caller sees it:
    /// from the cache, or derived from the newest one kept (the diff between the two commits
    /// applied feature by feature), or built from the files.
    func snapshot(_ caller: Caller, project name: String, _ c: FeatureCollection, _ state: State) async throws -> CollectionSnapshot {
        let key = SummaryCache.Key(
            organization: caller.organization.id,
            project: name,
            collection: c.id,
            glob: c.glob,
            viewer: state.viewer
        )
        let area = self
        return try await core.featureCaches.summaries.snapshot(key, commit: state.commit) { base in
            if let base, let updated = try await area.update(base, caller, project: name, c, state) { return updated }
            return try await area.count(caller, project: name, c, state)
        }
    }

    /// Every feature of the collection the caller may read, counted and indexed from the files.
    private func count(_ caller: Caller, project name: String, _ c: FeatureCollection, _ state: State) async throws -> CollectionSnapshot {
        var summary = FeatureSummary()
        var entries: [FeatureBoxes.Entry] = []
        var after: String?
        repeat {
            try Task.checkCancellation()
            let page = try await core.files(caller, project: name, pattern: c.glob, at: state.commit, limit: 1000, after: after)
            for (i, (path, bytes)) in page.files.enumerated() {
                guard let feature = Self.member(path, bytes, c, state.ontology) else { continue }
                summary.add(feature)
                if let entry = Self.entry(path, page.blobs[i], feature) { entries.append(entry) }
            }
            after = page.next
        } while after != nil
        let found = entries
        let boxes = found.count > FeatureBoxes.offloadAbove ? try await Offload.run { _ in FeatureBoxes(found) } : FeatureBoxes(found)
        return CollectionSnapshot(summary: summary, boxes: boxes)
    }

    /// A feature as the spatial index keeps it; nil when its geometry has no position.
    private static func entry(_ path: String, _ blob: ObjectID, _ feature: [String: JSONValue]) -> FeatureBoxes.Entry? {
        guard let b = FeatureSummary.box(of: feature["geometry"]) else { return nil }
        return FeatureBoxes.Entry(path: path, blob: blob, box: BoxTree.Box(west: b.west, south: b.south, east: b.east, north: b.north))
    }

    /// The snapshot at `base.commit` carried to the state's commit by the files changed between
    /// them; nil when counting afresh is as cheap or the only exact way (the ontology changed,
    /// thousands of files changed, or a removed feature was on the extent's edge).
    private func update(
        _ base: SummaryCache.Base,
        _ caller: Caller,
        project name: String,
        _ c: FeatureCollection,
        _ state: State
    ) async throws -> CollectionSnapshot? {
        let project = try await core.project(caller, name)
        let glob = try Glob(c.glob)
        let policy = try await core.policy(for: caller)
        let branch = Gateway.branch(of: state.commit)
        var snapshot = base.snapshot
        var after: String?
        var seen = 0
        repeat {
            try Task.checkCancellation()
            let diff = try await project.diff(from: base.commit, to: state.commit, json: false, limit: 1000, after: after)
            if diff.files.contains(where: { $0.path.hasPrefix(Gateway.ontologyRoot) }) { return nil }
            let relevant = diff.files.filter {
                glob.matches($0.path)
                    && (!state.limited
                        || policy.decide(caller.principal, .read, AccessTarget(project: name, branch: branch, path: $0.path)).allowed)
            }
            seen += relevant.count
            if seen > 2000 { return nil }
            let blobs = try await project.blobs(relevant.flatMap { [$0.before, $0.after].compactMap(\.self) })
            for file in relevant {
                if let before = file.before, let bytes = blobs[before], let old = Self.member(file.path, bytes, c, state.ontology) {
                    guard snapshot.summary.remove(old) else { return nil }
                    snapshot.boxes.remove(file.path)
                }
                if let now = file.after, let bytes = blobs[now], let new = Self.member(file.path, bytes, c, state.ontology) {
                    snapshot.summary.add(new)
                    if let entry = Self.entry(file.path, now, new) { snapshot.boxes.add(entry) }
                }
            }
            after = diff.next
        } while after != nil
        if snapshot.boxes.needsCompaction {
            let boxes = snapshot.boxes
            snapshot.boxes = boxes.count > FeatureBoxes.offloadAbove ? try await Offload.run { _ in boxes.compacted() } : boxes.compacted()
        }
        return snapshot
    }

    // MARK: Items

    /// A page of a collection's features at `ref`, in path order, optionally only those whose
    /// bounding box meets `bbox` (west, south, east, north in degrees) and whose properties equal
    /// the values `properties` gives (each name one of the collection's properties).
    public func items(
        _ caller: Caller,
        project name: String,
        collection id: String,
        at ref: String = "main",
        bbox given: [Double]? = nil,
        bboxCRS: String? = nil,
        crs: String? = nil,
        properties: [(name: String, value: String)] = [],
        limit: Int = 10,
        cursor: String? = nil
    ) async throws -> FeaturePage {
        guard (1...Self.maxLimit).contains(limit) else {
            throw CairnError(.invalidArgument, "limit must be 1 to \(Self.maxLimit)", details: ["limit": String(limit)])
        }
        let (state, collection) = try await lookup(caller, project: name, id: id, at: ref)
        let output = try Self.system(crs, of: collection, parameter: "crs")
        var bbox = given
        if let given {
            guard given.count == 4, given.allSatisfy(\.isFinite) else {
                throw CairnError(.invalidArgument, "bbox is four numbers: west,south,east,north", details: ["parameter": "bbox"])
            }
            bbox = try Self.boxInDegrees(given, from: try Self.system(bboxCRS, of: collection, parameter: "bbox-crs"))
            try Self.checkBBox(bbox!)
        } else if bboxCRS != nil {
            throw CairnError(.invalidArgument, "bbox-crs names the system of bbox: give bbox too", details: ["parameter": "bbox-crs"])
        }
        let snapshot = try await snapshot(caller, project: name, collection, state)
        let known = Set(snapshot.summary.propertyTypes.map(\.name))
        if let unknown = properties.first(where: { !known.contains($0.name) }) {
            throw CairnError(
                .invalidArgument,
                "'\(unknown.name)' is neither a parameter of this request nor a property of collection '\(id)'",
                details: ["parameter": unknown.name]
            )
        }
        let after = try cursor.map(Gateway.decodeCursor)
        let query = Query(collection: collection, state: state, properties: properties, limit: limit, after: after, output: output)
        if let bbox { return try await itemsInBox(caller, project: name, query, bbox: bbox, snapshot.boxes) }
        // The collection's count answers for the query only when nothing narrows it.
        return try await itemsInOrder(caller, project: name, query, matched: properties.isEmpty ? snapshot.summary.count : nil)
    }

    /// What a page of items is asked for, once checked.
    private struct Query {
        let collection: FeatureCollection
        let state: State
        let properties: [(name: String, value: String)]
        let limit: Int
        let after: String?
        let output: CoordinateSystem

        func page(_ features: [JSONValue], next: String?, matched: Int?) throws -> FeaturePage {
            FeaturePage(
                commit: state.commit,
                features: try FeaturesArea.reproject(features, to: output),
                next: next.map(Gateway.encodeCursor),
                matched: matched
            )
        }

        func keeps(_ feature: [String: JSONValue]) -> Bool { properties.allSatisfy { FeaturesArea.equals(feature, $0.name, $0.value) } }
    }

    /// A page of the features meeting `bbox`, found by the spatial index and then read by blob id,
    /// in path order; the index's count of them is `numberMatched` when no property filter applies
    /// (the index tests the same box the scan would, so the count is exact).
    private func itemsInBox(
        _ caller: Caller,
        project name: String,
        _ q: Query,
        bbox: [Double],
        _ boxes: FeatureBoxes
    ) async throws -> FeaturePage {
        let project = try await core.project(caller, name)
        let candidates =
            boxes.count > FeatureBoxes.offloadAbove ? try await Offload.run { _ in boxes.matching(bbox) } : boxes.matching(bbox)
        var start = 0
        if let after = q.after {
            var (low, high) = (0, candidates.count)
            while low < high {
                let mid = (low + high) / 2
                if candidates[mid].path <= after { low = mid + 1 } else { high = mid }
            }
            start = low
        }
        let matched = q.properties.isEmpty ? candidates.count : nil
        var features: [JSONValue] = []
        // Blobs are read a batch at a time: with a property filter, more than one page's worth.
        let batch = q.properties.isEmpty ? q.limit : max(q.limit, 500)
        while start < candidates.count {
            try Task.checkCancellation()
            let chunk = candidates[start..<min(start + batch, candidates.count)]
            let blobs = try await project.blobs(chunk.map(\.blob))
            for (i, entry) in zip(chunk.indices, chunk) {
                guard let bytes = blobs[entry.blob], let feature = Self.member(entry.path, bytes, q.collection, q.state.ontology),
                    q.keeps(feature)
                else { continue }
                features.append(.object(feature))
                if features.count == q.limit {
                    return try q.page(features, next: i < candidates.count - 1 ? entry.path : nil, matched: matched)
                }
            }
            start = chunk.endIndex
        }
        return try q.page(features, next: nil, matched: matched)
    }

    /// A page of the collection's features in path order, read from the tree page by page until
    /// it is full; the cursor is the last path looked at, so the next page goes on from there.
    private func itemsInOrder(_ caller: Caller, project name: String, _ q: Query, matched: Int?) async throws -> FeaturePage {
        var features: [JSONValue] = []
        var after = q.after
        while true {
            try Task.checkCancellation()
            let page = try await core.files(caller, project: name, pattern: q.collection.glob, at: q.state.commit, limit: 500, after: after)
            for (i, file) in page.files.enumerated() {
                if let feature = Self.member(file.path, file.bytes, q.collection, q.state.ontology), q.keeps(feature) {
                    features.append(.object(feature))
                }
                if features.count == q.limit {
                    let more = i < page.files.count - 1 || page.next != nil
                    return try q.page(features, next: more ? file.path : nil, matched: matched)
                }
            }
            guard let next = page.next else { break }
            after = next
        }
        return try q.page(features, next: nil, matched: matched)
    }

    /// The most cells an aggregate may have along either side.
    public static let maxCells = 256

    /// How the features of a collection meeting `bbox` (the collection's extent when nil) fall
    /// into a `columns` × `rows` grid laid over it: what a map shows at low zoom instead of the
    /// features, so a million of them never travel to the browser at once. Answered from the
    /// spatial index, without reading a feature.
    public func cells(
        _ caller: Caller,
        project name: String,
        collection id: String,
        at ref: String = "main",
        bbox given: [Double]? = nil,
        columns: Int = 64,
        rows: Int = 64
    ) async throws -> FeatureCells {
        for (name, n) in [("columns", columns), ("rows", rows)] where !(1...Self.maxCells).contains(n) {
            throw CairnError(.invalidArgument, "\(name) must be 1 to \(Self.maxCells)", details: ["parameter": name])
        }
        if let given { try Self.checkBBox(given) }
        let (state, collection) = try await lookup(caller, project: name, id: id, at: ref)
        let snapshot = try await snapshot(caller, project: name, collection, state)
        guard let bbox = given ?? snapshot.summary.box.map({ [$0.west, $0.south, $0.east, $0.north] }) else {
            return FeatureCells(commit: state.commit, bbox: nil, columns: columns, rows: rows, matched: 0, cells: [])
        }
        let boxes = snapshot.boxes
        let counted =
            boxes.count > FeatureBoxes.offloadAbove
            ? try await Offload.run { _ in boxes.cells(bbox, columns: columns, rows: rows) }
            : boxes.cells(bbox, columns: columns, rows: rows)
        let cells = counted.map {
            FeatureCells.Cell(column: $0.column, row: $0.row, count: $0.count, lon: $0.lon, lat: $0.lat)
        }
        return FeatureCells(
            commit: state.commit,
            bbox: bbox,
            columns: columns,
            rows: rows,
            matched: cells.reduce(0) { $0 + $1.count },
            cells: cells
        )
    }

    /// Whether a feature's property equals a filter's text: a string exactly, a number by value,
    /// a boolean as `true` or `false`.
    static func equals(_ feature: [String: JSONValue], _ name: String, _ text: String) -> Bool {
        guard case .object(let properties)? = feature["properties"], let value = properties[name] else { return false }
        switch value {
        case .string(let s): return s == text
        case .int(let i): return Int64(text) == i || Double(text) == Double(i)
        case .double(let d): return Double(text) == d
        case .bool(let b): return text == (b ? "true" : "false")
        case .null: return text == "null"
        case .array, .object: return false
        }
    }

    static func checkBBox(_ bbox: [Double]) throws {
        guard bbox.count == 4, bbox.allSatisfy(\.isFinite), bbox[1] <= bbox[3] else {
            throw CairnError(.invalidArgument, "bbox is four numbers: west,south,east,north (degrees, south ≤ north)")
        }
    }

    /// Every GeoJSON Feature file matching `glob` at `ref` (optionally only those meeting
    /// `bbox`), each with its path as `id`, read a page at a time as the consumer asks
    /// (`FeatureExport.next`): an export streams with memory flat in the number of features.
    /// The commit is resolved (and `read` authorized) here, before any feature; every feature
    /// is read through the core, so a path-scoped key exports only its own features.
    public func export(
        _ caller: Caller,
        project name: String,
        glob pattern: String,
        at ref: String = "main",
        bbox: [Double]? = nil
    )
        async throws -> FeatureExport
    {
        if let bbox { try Self.checkBBox(bbox) }
        // Every check the pages will make is made here, before the first byte is sent.
        try core.checkPattern(pattern)
        _ = try Glob(pattern)
        let commit = try await resolve(caller, project: name, ref: ref)
        return FeatureExport(area: self, caller: caller, project: name, glob: pattern, commit: commit, bbox: bbox)
    }

    /// The next page of an export's features (nil: no more), and where the page after starts.
    func exportPage(_ e: FeatureExport, after: String?) async throws -> (features: [JSONValue], next: String?) {
        try Task.checkCancellation()
        let everything = FeatureCollection(id: "export", title: "export", glob: e.glob, entityType: nil)
        let page = try await core.files(e.caller, project: e.project, pattern: e.glob, at: e.commit, limit: 500, after: after)
        var out: [JSONValue] = []
        for (path, bytes) in page.files {
            guard let feature = Self.member(path, bytes, everything, nil), e.bbox.map({ Self.meets(feature["geometry"], $0) }) ?? true
            else { continue }
            out.append(.object(feature))
        }
        return (out, page.next)
    }

    /// One feature by its id (the file's path), or `not_found` when it is not in the collection.
    public func item(
        _ caller: Caller,
        project name: String,
        collection id: String,
        id path: String,
        at ref: String = "main",
        crs: String? = nil
    ) async throws -> (commit: String, feature: JSONValue) {
        let (state, collection) = try await lookup(caller, project: name, id: id, at: ref)
        let output = try Self.system(crs, of: collection, parameter: "crs")
        guard try Glob(collection.glob).matches(path), let feature = try await feature(caller, project: name, path: path, state, collection)
        else {
            throw CairnError(.notFound, "no feature '\(path)' in collection '\(id)'", details: ["feature": path])
        }
        return (state.commit, try Self.reproject([.object(feature)], to: output)[0])
    }

    // MARK: Reading features

    /// The ontology's file at `commit`, read as configuration: which types exist decides what the
    /// collections are, even for a caller who may not read `.cairn/` (the caller was authorized
    /// on the project by `resolve`; each feature is still authorized on its own path).
    private func ontologyBytes(_ caller: Caller, project name: String, at commit: String) async throws -> [UInt8]? {
        let project = try await core.project(caller, name)
        do {
            return try await project.readBytes(Ontology.path, at: commit).2
        } catch let error as CairnError where error.code == .notFound {
            return nil
        }
    }

    /// One file read through the core as a member of the collection (nil when it is not one, or
    /// the caller may not read it).
    private func feature(
        _ caller: Caller,
        project name: String,
        path: String,
        _ state: State,
        _ collection: FeatureCollection
    ) async throws -> [String: JSONValue]? {
        do {
            let (_, _, bytes) = try await core.readBytes(caller, project: name, path: path, at: state.commit)
            return Self.member(path, bytes, collection, state.ontology)
        } catch let error as CairnError where error.code == .notFound || error.code == .permissionDenied {
            return nil
        }
    }

    /// The file as a GeoJSON Feature of the collection with its path as `id`; nil when it is not
    /// a Feature with a geometry, or (for an entity type) when another type governs it.
    static func member(
        _ path: String,
        _ bytes: [UInt8],
        _ collection: FeatureCollection,
        _ ontology: CompiledOntology?
    ) -> [String: JSONValue]? {
        guard case .object(var members)? = JSONValue.parse(bytes), members["type"] == .string("Feature"),
            case .object? = members["geometry"]
        else { return nil }
        if let ontology, let type = collection.entityType {
            guard ontology.typeID(of: Entity(path: path, object: members)) == type else { return nil }
        }
        members["id"] = .string(path)
        return members
    }

    /// Whether a geometry's bounding box meets `bbox` (west, south, east, north); a box whose
    /// west is east of its east crosses the antimeridian.
    static func meets(_ geometry: JSONValue?, _ bbox: [Double]) -> Bool {
        guard let box = FeatureSummary.box(of: geometry) else { return false }
        guard box.south <= bbox[3], box.north >= bbox[1] else { return false }
        if bbox[0] <= bbox[2] { return box.west <= bbox[2] && box.east >= bbox[0] }
        return box.east >= bbox[0] || box.west <= bbox[2]
    }
}

extension Gateway {
    /// The project's GeoJSON files as OGC API – Features collections (see `FeaturesArea`).
    public var features: FeaturesArea { FeaturesArea(core: self) }
}

/// An export in progress: one commit, read a page at a time as the consumer asks.
public struct FeatureExport: Sendable {
    let area: FeaturesArea
    let caller: Caller
    let project: String
    let glob: String
    /// The commit every page reads.
    public let commit: String
    let bbox: [Double]?
    private var cursor: String?
    private var done = false

    init(area: FeaturesArea, caller: Caller, project: String, glob: String, commit: String, bbox: [Double]?) {
        (self.area, self.caller, self.project, self.glob, self.commit, self.bbox) = (area, caller, project, glob, commit, bbox)
    }

    /// What opens and closes an export written as a FeatureCollection (a text sequence has neither).
    public static func opening(sequence: Bool) -> [UInt8] { sequence ? [] : Array(#"{"type":"FeatureCollection","features":["#.utf8) }
    public static func closing(sequence: Bool) -> [UInt8] { sequence ? [] : Array("]}".utf8) }

    /// A page of features as written: members of the collection's array (comma-separated across
    /// pages; `first` says whether none was written yet), or RFC 8142 records (RS, JSON, LF).
    public static func encode(_ page: [JSONValue], sequence: Bool, first: inout Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        for feature in page {
            if sequence {
                bytes.append(0x1E)
            } else if !first {
                bytes.append(UInt8(ascii: ","))
            }
            first = false
            bytes += feature.compactBytes
            if sequence { bytes.append(UInt8(ascii: "\n")) }
        }
        return bytes
    }

    /// The next page's features (possibly empty while more remain); nil when all were read.
    public mutating func next() async throws -> [JSONValue]? {
        guard !done else { return nil }
        let (features, next) = try await area.exportPage(self, after: cursor)
        cursor = next
        done = next == nil
        return features
    }
}
