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
}

/// The features area: the project's GeoJSON files served as OGC API – Features collections for
/// GIS tools (QGIS, GDAL, OWSLib). Every list and every feature is read through the core, so a
/// key scoped to some paths sees only those features, in lists and pages alike; it keeps
/// nothing between calls.
public struct FeaturesArea: Sendable {
    /// The Gateway whose core this area calls.
    let core: Gateway

    /// The most items one page may hold (OGC API – Features suggests 10,000).
    public static let maxLimit = 10_000

    /// The commit `ref` names, with `read` on the project (and its branch) authorized: what the
    /// landing page needs, without looking at any collection.
    public func resolve(_ caller: Caller, project name: String, ref: String) async throws -> String {
        let (project, _) = try await core.open(caller, name, .read, branch: Gateway.branch(of: ref), action: "features.read")
        return try await project.resolve(ref).commit.hex
    }

    /// The collections at `ref`: the ontology's entity types matched by a path glob, or without an
    /// ontology each top-level folder holding a file the caller may read.
    public func collections(
        _ caller: Caller,
        project name: String,
        at ref: String = "main"
    ) async throws -> (
        commit: String, collections: [FeatureCollection]
    ) {
        let state = try await state(caller, project: name, at: ref)
        if let ontology = state.ontology {
            var types: [FeatureCollection] = []
            for type in Self.typeCollections(ontology) where try await shown(type, caller, project: name, state) { types.append(type) }
            return (state.commit, types)
        }
        var folders: Set<String> = []
        var cursor: String?
        repeat {
            let page = try await core.glob(caller, project: name, pattern: "*/**", at: state.commit, limit: 5000, after: cursor)
            for path in page.paths {
                if let first = path.split(separator: "/").first, Self.isFolderID(String(first)) { folders.insert(String(first)) }
            }
            cursor = page.next
        } while cursor != nil
        return (state.commit, folders.sorted().map(Self.folder))
    }

    /// One collection, or `not_found`.
    public func collection(
        _ caller: Caller,
        project name: String,
        id: String,
        at ref: String = "main"
    ) async throws -> (
        commit: String, collection: FeatureCollection
    ) {
        let (state, found) = try await lookup(caller, project: name, id: id, at: ref)
        return (state.commit, found)
    }

    // MARK: Finding a collection

    /// What one request reads once: the commit `ref` names, the project's compiled ontology there
    /// (nil without one), and whether the caller is limited to some paths.
    private struct State {
        let commit: String
        let ontology: CompiledOntology?
        let limited: Bool
    }

    private func state(_ caller: Caller, project name: String, at ref: String) async throws -> State {
        let commit = try await resolve(caller, project: name, ref: ref)
        let ontology = try await ontologyBytes(caller, project: name, at: commit).flatMap { try? core.ontology.compiled($0) }
        let limited = try await core.policy(for: caller).hasPathRules(caller.principal, project: name)
        return State(commit: commit, ontology: ontology, limited: limited)
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
        guard let found, try await shown(found, caller, project: name, state) else {
            throw CairnError(.notFound, "no collection '\(id)' in '\(name)'", details: ["collection": id])
        }
        return (state, found)
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

    /// A page of a collection's features at `ref`, in path order, optionally only those whose
    /// bounding box meets `bbox` (west, south, east, north in degrees).
    public func items(
        _ caller: Caller,
        project name: String,
        collection id: String,
        at ref: String = "main",
        bbox: [Double]? = nil,
        limit: Int = 10,
        cursor: String? = nil
    ) async throws -> FeaturePage {
        guard (1...Self.maxLimit).contains(limit) else {
            throw CairnError(.invalidArgument, "limit must be 1 to \(Self.maxLimit)", details: ["limit": String(limit)])
        }
        if let bbox {
            guard bbox.count == 4, bbox.allSatisfy(\.isFinite), bbox[1] <= bbox[3] else {
                throw CairnError(.invalidArgument, "bbox is four numbers: west,south,east,north (degrees, south ≤ north)")
            }
        }
        let (state, collection) = try await lookup(caller, project: name, id: id, at: ref)
        let (commit, governing) = (state.commit, collection.entityType == nil ? nil : state.ontology)
        var features: [JSONValue] = []
        var after = cursor
        // Pages of paths are read until the page of features is full; the cursor is the last
        // path looked at, so the next page goes on from there.
        scan: while true {
            let page = try await core.glob(caller, project: name, pattern: collection.glob, at: commit, limit: 500, after: after)
            for (i, path) in page.paths.enumerated() {
                if let feature = try await feature(caller, project: name, path: path, at: commit, collection, governing),
                    bbox.map({ Self.meets(feature, $0) }) ?? true
                {
                    features.append(feature)
                }
                if features.count == limit {
                    let more = i < page.paths.count - 1 || page.next != nil
                    return FeaturePage(commit: commit, features: features, next: more ? Gateway.encodeCursor(path) : nil)
                }
            }
            guard let next = page.next else { break scan }
            after = next
        }
        return FeaturePage(commit: commit, features: features, next: nil)
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
        if let bbox {
            guard bbox.count == 4, bbox.allSatisfy(\.isFinite), bbox[1] <= bbox[3] else {
                throw CairnError(.invalidArgument, "bbox is four numbers: west,south,east,north (degrees, south ≤ north)")
            }
        }
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
        let page = try await core.glob(e.caller, project: e.project, pattern: e.glob, at: e.commit, limit: 500, after: after)
        var out: [JSONValue] = []
        for path in page.paths {
            guard let feature = try await feature(e.caller, project: e.project, path: path, at: e.commit, everything, nil),
                e.bbox.map({ Self.meets(feature, $0) }) ?? true
            else { continue }
            out.append(feature)
        }
        return (out, page.next)
    }

    /// One feature by its id (the file's path), or `not_found` when it is not in the collection.
    public func item(
        _ caller: Caller,
        project name: String,
        collection id: String,
        id path: String,
        at ref: String = "main"
    ) async throws -> (commit: String, feature: JSONValue) {
        let (state, collection) = try await lookup(caller, project: name, id: id, at: ref)
        let (commit, governing) = (state.commit, collection.entityType == nil ? nil : state.ontology)
        guard try Glob(collection.glob).matches(path),
            let feature = try await feature(caller, project: name, path: path, at: commit, collection, governing)
        else {
            throw CairnError(.notFound, "no feature '\(path)' in collection '\(id)'", details: ["feature": path])
        }
        return (commit, feature)
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

    /// The file as a GeoJSON Feature with its path as `id`; nil when it is not a Feature with a
    /// geometry, or (for an entity type) when another type governs it.
    private func feature(
        _ caller: Caller,
        project name: String,
        path: String,
        at commit: String,
        _ collection: FeatureCollection,
        _ ontology: CompiledOntology?
    ) async throws -> JSONValue? {
        let bytes: [UInt8]
        do {
            (_, _, bytes) = try await core.readBytes(caller, project: name, path: path, at: commit)
        } catch let error as CairnError where error.code == .notFound || error.code == .permissionDenied {
            return nil
        }
        guard case .object(var members)? = JSONValue.parse(bytes), members["type"] == .string("Feature"),
            case .object? = members["geometry"]
        else { return nil }
        if let ontology, let type = collection.entityType {
            guard ontology.typeID(of: Entity(path: path, object: members)) == type else { return nil }
        }
        members["id"] = .string(path)
        return .object(members)
    }

    /// Whether a feature's bounding box meets `bbox` (west, south, east, north); a box whose
    /// west is east of its east crosses the antimeridian.
    static func meets(_ feature: JSONValue, _ bbox: [Double]) -> Bool {
        guard case .object(let members) = feature, let geometry = members["geometry"], let box = Self.box(geometry) else { return false }
        guard box.south <= bbox[3], box.north >= bbox[1] else { return false }
        if bbox[0] <= bbox[2] { return box.west <= bbox[2] && box.east >= bbox[0] }
        return box.east >= bbox[0] || box.west <= bbox[2]
    }

    /// The extent of every position in a GeoJSON geometry (of any type, collections included).
    static func box(_ geometry: JSONValue) -> (west: Double, south: Double, east: Double, north: Double)? {
        var found: (west: Double, south: Double, east: Double, north: Double)?
        geometry.forEachPosition { lon, lat in
            if let f = found {
                found = (min(f.west, lon), min(f.south, lat), max(f.east, lon), max(f.north, lat))
            } else {
                found = (lon, lat, lon, lat)
            }
            return true
        }
        return found
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
