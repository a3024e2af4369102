import CairnCore
import CairnStore

/// What validating a change (or a whole tree) found, and what it derives for the commit.
public struct ValidationOutcome: Sendable {
    public var violations: [Violation] = []
    /// Derived files: backlink index entries, entities with defaults filled in.
    public var writes: [String: [UInt8]?] = [:]
    public var reads: Set<String> = []
    /// Entities that received defaults, and which properties.
    public var defaulted: [String: [String]] = [:]
    public var entities = 0
    public var checked = 0
}

/// Validation on the write path: incremental for ordinary changes (the changed entities and
/// the entities that link to them), whole-tree for a change of the ontology itself.
public enum OntologyValidation {
    /// The paths validation never treats as entities: configuration and derived indexes.
    static func isData(_ path: String) -> Bool { !path.hasPrefix(".cairn/") }

    /// Validates a staged change against `ontology`: each changed entity, and each entity that
    /// links to a changed path, is checked; the backlink index follows the change; missing
    /// properties with defaults are filled in. Cost follows the change, not the project.
    public static func incremental(_ staged: StagedCommit, ontology: CompiledOntology) async throws -> ValidationOutcome {
        let reader = WorldReader(staged)
        var out = ValidationOutcome()
        var toCheck: Set<String> = []
        var moved: [String: (type: String, shapes: [JSONValue])] = [:]
        for (path, after) in staged.changes.sorted(by: { $0.key < $1.key }) where isData(path) {
            let before = try await staged.before(path).flatMap { Entity(path: path, bytes: $0) }
            var now = after.flatMap { Entity(path: path, bytes: $0) }
            if let e = now, let type = ontology.type(of: e, reader), let filled = ontology.filled(e, type) {
                let bytes = e.with(properties: filled)
                reader.override(path, bytes)
                out.writes[path] = .some(bytes)
                out.defaulted[path] = type.spec.properties.filter { e.properties[$0.name] == nil && $0.default != nil }.map(\.name)
                now = Entity(path: path, bytes: bytes)
            }
            // Uncached: the same path, before.
            let old = before.map { $0.targets(referenceProperties: ontology.type(of: $0)?.references ?? []) } ?? []
            let new = now.map { $0.targets(referenceProperties: ontology.type(of: $0, reader)?.references ?? []) } ?? []
            for t in old.subtracting(new) { out.writes[LinkIndex.marker(target: t, source: path)] = .some(nil) }
            for t in new.subtracting(old) { out.writes[LinkIndex.marker(target: t, source: path)] = .some([]) }
            let oldType = before.flatMap { ontology.type(of: $0)?.spec.id }
            let newType = now.flatMap { ontology.type(of: $0, reader)?.spec.id }
            let oldGrid = before.map { ontology.gridMarkers($0, typeID: oldType) } ?? [:]
            let newGrid = now.map { ontology.gridMarkers($0, typeID: newType) } ?? [:]
            for (type, entity) in [(oldType, before), (newType, now)] {
                if let type, let entity, let geometry = entity.geometry, ontology.spatialRules.contains(where: { $0.target == type }) {
                    moved[path, default: (type, [])].shapes.append(geometry)
                }
            }
            for marker in oldGrid.keys where newGrid[marker] == nil { out.writes[marker] = .some(nil) }
            for (marker, content) in newGrid where oldGrid[marker] == nil { out.writes[marker] = .some(content) }
            if let now, ontology.type(of: now, reader) != nil { toCheck.insert(path) }
        }
        // The index as this change leaves it, so links added in the same commit are followed.
        reader.derive(out.writes)
        for path in staged.changes.keys where isData(path) {
            for referrer in try await reader.referrers(of: path) { toCheck.insert(referrer) }
        }
        // Spatial rules depend on what is near: when an entity a rule searches for moves, appears
        // or goes, the entities the rule applies to around its old and new places are checked again.
        for (path, geometries) in moved {
            for rule in ontology.spatialRules where rule.target == geometries.type {
                guard let subject = rule.type else { continue }
                for geometry in geometries.shapes {
                    for cell in SpatialIndex.cells(around: geometry, metres: rule.distance ?? 0) {
                        for other in try await reader.entries(under: SpatialIndex.prefix(type: subject, cell: cell)) where other != path {
                            toCheck.insert(other)
                        }
                    }
                }
            }
        }
        for path in toCheck.sorted() {
            guard let entity = try await reader.entity(path) else { continue }
            out.checked += 1
            out.violations += try await ontology.violations(of: entity, reader: reader)
        }
        out.reads = reader.reads
        return out
    }

    /// Validates every entity of a tree (a new ontology, or the violations query). With
    /// `derive`, also rebuilds the backlink index and fills in defaults, as writes.
    public static func full(_ world: any EntityWorld, ontology: CompiledOntology, derive: Bool) async throws -> ValidationOutcome {
        let reader = WorldReader(world)
        var out = ValidationOutcome()
        var markers: [String: [UInt8]] = [:]
        let paths = try await world.paths(prefix: "").filter(isData)
        var typed: [String] = []
        for path in paths {
            guard let e = try await reader.entity(path) else { continue }
            let type = ontology.type(of: e, reader)
            var entity = e
            if derive, let type, let filled = ontology.filled(e, type) {
                let bytes = e.with(properties: filled)
                reader.override(path, bytes)
                out.writes[path] = .some(bytes)
                out.defaulted[path] = type.spec.properties.filter { e.properties[$0.name] == nil && $0.default != nil }.map(\.name)
                entity = Entity(path: path, bytes: bytes) ?? e
            }
            for t in entity.targets(referenceProperties: type?.references ?? []) { markers[LinkIndex.marker(target: t, source: path)] = [] }
            markers.merge(ontology.gridMarkers(entity, typeID: type?.spec.id)) { a, _ in a }
            if type != nil { typed.append(path) }
        }
        // The index as the data implies it: written when deriving, and followed either way, so
        // the rules that walk links see the same links whether or not the index was kept.
        let existing = Set(try await world.paths(prefix: LinkIndex.root) + world.paths(prefix: SpatialIndex.root))
        var index: [String: [UInt8]?] = [:]
        for (marker, content) in markers where !existing.contains(marker) { index[marker] = .some(content) }
        for marker in existing where markers[marker] == nil { index[marker] = .some(nil) }
        reader.derive(index)
        if derive { out.writes.merge(index) { _, new in new } }
        for path in typed {
            guard let entity = try await reader.entity(path) else { continue }
            out.violations += try await ontology.violations(of: entity, reader: reader)
        }
        out.entities = typed.count
        out.checked = typed.count
        return out
    }
}
