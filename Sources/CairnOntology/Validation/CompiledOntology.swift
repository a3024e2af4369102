import CairnCompute
import CairnCore
import CairnStore
import Foundation

/// An ontology checked and compiled for validation: globs, patterns and expressions built
/// once, types and links indexed. Building one refuses an ontology that is not well formed.
public final class CompiledOntology: Sendable {
    public let ontology: Ontology

    struct TypeInfo: Sendable {
        let spec: EntityType
        let glob: Glob?
        let patterns: [String: ValuePattern]
        let references: [String]
    }

    struct Rule: Sendable {
        let spec: Constraint
        let pattern: ValuePattern?
        let expression: Expression?
    }

    let types: [TypeInfo]
    let typeIndex: [String: Int]
    let links: [String: LinkType]
    let rules: [String: [Rule]]
    /// Hierarchy rules apply to every entity with their link, whatever its type.
    let hierarchies: [Rule]
    /// The types spatial rules search, and the types spatial rules apply to: the grid index
    /// files both, so a rule finds what is near, and a change to what it found finds the rule.
    let spatialTargets: Set<String>
    let spatialRules: [Constraint]

    public init(_ ontology: Ontology) throws(CairnError) {
        self.ontology = ontology
        var problems: [String] = []
        var types: [TypeInfo] = []
        var index: [String: Int] = [:]
        for t in ontology.entityTypes {
            if t.id.isEmpty || t.id.utf8.count > 64
                || !t.id.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" })
            {
                problems.append("entity type id '\(t.id)' must be 1 to 64 letters, digits, '_' or '-'")
            }
            if index[t.id] != nil { problems.append("entity type '\(t.id)' is declared twice") }
            index[t.id] = types.count
            if t.match.glob == nil && t.match.property == nil {
                problems.append("entity type '\(t.id)' matches no files: give match.glob and/or match.property")
            }
            var glob: Glob?
            if let g = t.match.glob {
                do { glob = try Glob(g) } catch { problems.append("entity type '\(t.id)': '\(g)' is not a valid glob") }
            }
            var patterns: [String: ValuePattern] = [:]
            var names = Set<String>()
            func check(_ p: PropertySpec, _ label: String) {
                if let pattern = p.pattern {
                    do { patterns[label] = try ValuePattern(pattern) } catch {
                        problems.append("\(t.id).\(label): pattern '\(pattern)' does not compile")
                    }
                }
                if p.type == .enum && (p.values ?? []).isEmpty { problems.append("\(t.id).\(label): an enum needs values") }
                if p.type == .list {
                    if let items = p.items { check(items, label + "[]") } else { problems.append("\(t.id).\(label): a list needs items") }
                }
                if let lo = p.minimum, let hi = p.maximum, lo > hi { problems.append("\(t.id).\(label): minimum is above maximum") }
            }
            for p in t.properties {
                if p.name.isEmpty { problems.append("entity type '\(t.id)' has a property without a name") }
                if !names.insert(p.name).inserted { problems.append("\(t.id).\(p.name) is declared twice") }
                check(p, p.name)
            }
            let references = t.properties.filter { $0.type == .reference || ($0.type == .list && $0.items?.type == .reference) }.map(\.name)
            types.append(TypeInfo(spec: t, glob: glob, patterns: patterns, references: references))
        }
        // Dangling references: every type a property, link or rule names must exist.
        func known(_ id: String?, _ what: String) {
            if let id, index[id] == nil { problems.append("\(what) names unknown entity type '\(id)'") }
        }
        for t in ontology.entityTypes {
            for p in t.properties {
                if p.type == .reference {
                    known(p.to, "\(t.id).\(p.name)")
                    if p.to == nil { problems.append("\(t.id).\(p.name): a reference needs 'to'") }
                }
                if p.type == .list, let items = p.items, items.type == .reference {
                    known(items.to, "\(t.id).\(p.name)[]")
                    if items.to == nil { problems.append("\(t.id).\(p.name)[]: a reference needs 'to'") }
                }
            }
        }
        var links: [String: LinkType] = [:]
        for l in ontology.linkTypes {
            if links[l.name] != nil { problems.append("link type '\(l.name)' is declared twice") }
            links[l.name] = l
            if l.from != "*" { known(l.from, "link type '\(l.name)'") }
            if l.to != "*" { known(l.to, "link type '\(l.name)'") }
            if let lo = l.min, let hi = l.max, lo > hi { problems.append("link type '\(l.name)': min is above max") }
        }
        for name in ontology.crs ?? [] {
            guard let system = CoordinateSystem(name) else {
                problems.append("crs: '\(name)' is not a coordinate system: name it EPSG:NNNN (or its URN or OGC URI)")
                continue
            }
            do { _ = try Reprojection.cached(system, axisOrder: .authority) } catch { problems.append("crs: \(error.description)") }
        }
        var rules: [String: [Rule]] = [:]
        var hierarchies: [Rule] = []
        var names = Set<String>()
        for c in ontology.constraints {
            if !names.insert(c.name).inserted { problems.append("constraint '\(c.name)' is declared twice") }
            if c.message.isEmpty { problems.append("constraint '\(c.name)' needs a message") }
            func need(_ ok: Bool, _ field: String) {
                if !ok { problems.append("constraint '\(c.name)' (\(c.kind.rawValue)) needs \(field)") }
            }
            if c.kind != .hierarchy {
                need(c.type != nil, "type")
                known(c.type, "constraint '\(c.name)'")
            }
            var pattern: ValuePattern?
            var expression: Expression?
            switch c.kind {
            case .range: need(c.property != nil && (c.minimum != nil || c.maximum != nil), "property and minimum and/or maximum")
            case .enum: need(c.property != nil && !(c.values ?? []).isEmpty, "property and values")
            case .pattern:
                need(c.property != nil && c.pattern != nil, "property and pattern")
                if let p = c.pattern {
                    do { pattern = try ValuePattern(p) } catch {
                        problems.append("constraint '\(c.name)': pattern '\(p)' does not compile")
                    }
                }
            case .near:
                need(c.target != nil && (c.distance ?? -1) >= 0, "target and a distance in metres")
                known(c.target, "constraint '\(c.name)'")
            case .inside:
                need(c.target != nil, "target")
                known(c.target, "constraint '\(c.name)'")
            case .hierarchy:
                need(c.link != nil && (c.order ?? []).count >= 2, "link and an order of at least two types")
                for t in c.order ?? [] { known(t, "constraint '\(c.name)'") }
                if let order = c.order, Set(order).count != order.count {
                    problems.append("constraint '\(c.name)': the order repeats a type (a cycle)")
                }
            case .acyclic: need(c.link != nil, "link")
            case .maxDepth: need(c.link != nil && (c.depth ?? -1) >= 0, "link and depth")
            case .count: need(c.link != nil && (c.limit != nil || c.limitProperty != nil), "link and limit or limitProperty")
            case .sum:
                need(
                    c.link != nil && c.sumProperty != nil && (c.limit != nil || c.limitProperty != nil),
                    "link, sumProperty and limit or limitProperty"
                )
            case .expression:
                need(c.expression != nil, "expression")
                if let e = c.expression {
                    do { expression = try Expression(e) } catch { problems.append("constraint '\(c.name)': \(error.message)") }
                }
            }
            if let link = c.link, links[link] == nil { problems.append("constraint '\(c.name)' names unknown link type '\(link)'") }
            let rule = Rule(spec: c, pattern: pattern, expression: expression)
            if c.kind == .hierarchy { hierarchies.append(rule) } else if let t = c.type { rules[t, default: []].append(rule) }
        }
        guard problems.isEmpty else {
            throw CairnError(
                .invalidOntology,
                "the ontology is not well formed: " + problems.joined(separator: "; "),
                details: ["problems": String(problems.count)]
            )
        }
        self.types = types
        self.typeIndex = index
        self.links = links
        self.rules = rules
        self.hierarchies = hierarchies
        spatialRules = ontology.constraints.filter { $0.kind == .near || $0.kind == .inside }
        spatialTargets = Set(spatialRules.compactMap(\.target) + spatialRules.compactMap(\.type))
    }

    /// The grid entries of an entity whose type spatial rules search (none otherwise).
    func gridMarkers(_ entity: Entity, typeID: String?) -> [String: [UInt8]] {
        guard let typeID, spatialTargets.contains(typeID) else { return [:] }
        return SpatialIndex.markers(type: typeID, path: entity.path, geometry: entity.geometry)
    }

    /// Parses and compiles an ontology file.
    public static func parse(_ bytes: [UInt8]) throws(CairnError) -> CompiledOntology {
        let ontology: Ontology
        do {
            ontology = try JSONDecoder.cairn.decode(Ontology.self, from: bytes)
        } catch {
            throw CairnError(
                .invalidOntology,
                "\(Ontology.path) is not a valid ontology document: \(Self.describe(error))",
                details: ["path": Ontology.path]
            )
        }
        return try CompiledOntology(ontology)
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let c): "'\((c.codingPath + [key]).map(\.stringValue).joined(separator: "."))' is missing"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            "'\(c.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case DecodingError.dataCorrupted(let c): "\(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        default: "\(error)"
        }
    }

    /// The type governing a file, remembered for the rest of one validation run.
    func type(of entity: Entity, _ reader: WorldReader) -> TypeInfo? {
        if let known = reader.typeIndexes[entity.path] { return known.map { types[$0] } }
        let i = types.firstIndex { matches($0, entity) }
        reader.typeIndexes[entity.path] = .some(i)
        return i.map { types[$0] }
    }

    func typeID(of entity: Entity, _ reader: WorldReader) -> String? { type(of: entity, reader)?.spec.id }

    private func matches(_ t: TypeInfo, _ entity: Entity) -> Bool {
        if let property = t.spec.match.property {
            guard let value = entity.properties[property] else { return false }
            if let wanted = t.spec.match.equals, wanted != value { return false }
        }
        if let glob = t.glob, !glob.matches(entity.path) { return false }
        return true
    }

    /// The type governing a file, if any: the first whose glob and discriminator both match.
    func type(of entity: Entity) -> TypeInfo? {
        types.first { t in
            if let glob = t.glob, !glob.matches(entity.path) { return false }
            if let property = t.spec.match.property {
                guard let value = entity.properties[property] else { return false }
                if let wanted = t.spec.match.equals, wanted != value { return false }
            }
            return true
        }
    }

    /// The entity type that governs an entity, if any.
    public func typeID(of entity: Entity) -> String? { type(of: entity)?.spec.id }

    /// Properties with defaults filled in where absent; nil when nothing was missing.
    func filled(_ entity: Entity, _ type: TypeInfo) -> [String: JSONValue]? {
        var props = entity.properties
        var changed = false
        for p in type.spec.properties where props[p.name] == nil || props[p.name] == .null {
            if let d = p.default {
                props[p.name] = d
                changed = true
            }
        }
        return changed ? props : nil
    }
}

extension JSONDecoder {
    static var cairn: JSONDecoder { JSONDecoder() }

    func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try decode(type, from: Foundation.Data(bytes))
    }
}
