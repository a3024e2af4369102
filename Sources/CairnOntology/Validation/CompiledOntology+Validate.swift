import CairnCore
import CairnStore

extension CompiledOntology {
    /// Every rule `entity` breaks, reading linked and nearby entities through `reader`.
    func violations(of entity: Entity, reader: WorldReader) async throws -> [Violation] {
        var out: [Violation] = []
        let path = entity.path
        // Everything this entity points at, fetched in one batch before the rules read it.
        try await reader.prefetch(Array(entity.targets(referenceProperties: type(of: entity, reader)?.references ?? [])))
        for rule in hierarchies { out += try await hierarchy(rule.spec, entity, reader: reader) }
        guard let type = type(of: entity, reader) else { return out }
        let t = type.spec
        func add(_ constraint: String, _ pointer: String, _ message: String) {
            out.append(Violation(constraint: constraint, path: path, pointer: pointer, message: message))
        }

        // Geometry.
        if let kind = t.geometry {
            if kind == .none {
                if entity.geometry != nil { add("\(t.id).geometry", "/geometry", "a \(t.id) has no geometry") }
            } else if entity.geometryType != kind.rawValue {
                add("\(t.id).geometry", "/geometry", "a \(t.id) needs a \(kind.rawValue) geometry, not \(entity.geometryType ?? "none")")
            } else if let g = entity.geometry, !Geo.isWellFormed(g) {
                add("\(t.id).geometry", "/geometry/coordinates", "the \(kind.rawValue)'s coordinates are not well formed")
            }
        }

        // Properties.
        let base = entity.propertiesPointer
        for spec in t.properties {
            let value = entity.properties[spec.name].flatMap { $0 == .null ? nil : $0 }
            let pointer = base + "/" + JSONValue.escape(spec.name)
            guard let value else {
                if spec.isRequired && spec.default == nil { add("\(t.id).\(spec.name)", pointer, "\(spec.name) is required") }
                continue
            }
            out += try await check(value, spec, label: spec.name, pointer: pointer, type: type, path: path, reader: reader)
        }
        if t.additionalProperties == false {
            let declared = Set(t.properties.map(\.name) + [t.match.property].compactMap { $0 })
            for name in entity.properties.keys.sorted() where !declared.contains(name) {
                add("\(t.id).additionalProperties", base + "/" + JSONValue.escape(name), "\(t.id) declares no property '\(name)'")
            }
        }

        // Links: declared, from this type, to existing entities of the right type, within cardinality.
        for (name, targets) in entity.links.sorted(by: { $0.key < $1.key }) {
            let pointer = "/links/" + JSONValue.escape(name)
            guard let link = links[name] else {
                add("link:\(name)", pointer, "no link type named '\(name)'")
                continue
            }
            if link.from != "*" && link.from != t.id {
                add("link:\(name)", pointer, "'\(name)' links go from \(link.from), not from \(t.id)")
            }
            for (i, target) in targets.enumerated() {
                guard let other = try await reader.entity(target) else {
                    add("link:\(name)", "\(pointer)/\(i)", "the link target '\(target)' does not exist")
                    continue
                }
                let otherType = typeID(of: other, reader)
                if link.to == "*" ? otherType == nil : otherType != link.to {
                    add(
                        "link:\(name)",
                        "\(pointer)/\(i)",
                        "'\(target)' is a \(otherType ?? "file of no type"), but '\(name)' links to "
                            + "\(link.to == "*" ? "an entity" : link.to)"
                    )
                }
            }
        }
        for link in ontology.linkTypes where link.from == t.id || (link.from == "*" && (link.min != nil || link.max != nil)) {
            let n = entity.links[link.name]?.count ?? 0
            let pointer = "/links/" + JSONValue.escape(link.name)
            if let lo = link.min, n < lo {
                add("link:\(link.name)", pointer, "a \(t.id) needs at least \(lo) '\(link.name)' link(s); it has \(n)")
            }
            if let hi = link.max, n > hi {
                add("link:\(link.name)", pointer, "a \(t.id) may have at most \(hi) '\(link.name)' link(s); it has \(n)")
            }
        }

        // Constraints.
        for rule in rules[t.id] ?? [] {
            out += try await constraint(rule, entity, reader: reader)
        }
        return out
    }

    /// Checks one value against its property type.
    private func check(
        _ value: JSONValue,
        _ spec: PropertySpec,
        label: String,
        pointer: String,
        type: TypeInfo,
        path: String,
        reader: WorldReader
    ) async throws -> [Violation] {
        let name = "\(type.spec.id).\(label.split(separator: "[").first.map(String.init) ?? label)"
        func bad(_ message: String) -> [Violation] { [Violation(constraint: name, path: path, pointer: pointer, message: message)] }
        func number() -> Double? {
            switch value {
            case .int(let i): Double(i)
            case .double(let d): d
            default: nil
            }
        }
        func bounds(_ x: Double) -> [Violation] {
            let unit = spec.unit.map { " \($0)" } ?? ""
            if let lo = spec.minimum, x < lo {
                return bad("\(label) is \(Self.show(x))\(unit); the least allowed is \(Self.show(lo))\(unit)")
            }
            if let hi = spec.maximum, x > hi {
                return bad("\(label) is \(Self.show(x))\(unit); the most allowed is \(Self.show(hi))\(unit)")
            }
            return []
        }
        switch spec.type {
        case .string:
            guard case .string(let s) = value else { return bad("\(label) must be a string") }
            if let lo = spec.minLength, s.count < lo { return bad("\(label) must be at least \(lo) characters long") }
            if let hi = spec.maxLength, s.count > hi { return bad("\(label) must be at most \(hi) characters long") }
            if let p = type.patterns[label], !p.matches(s) { return bad("\(label) '\(s)' does not match \(spec.pattern ?? "")") }
            return []
        case .number:
            guard let x = number() else { return bad("\(label) must be a number") }
            return bounds(x)
        case .integer:
            guard let x = number(), x.rounded() == x else { return bad("\(label) must be an integer") }
            return bounds(x)
        case .boolean:
            guard case .bool = value else { return bad("\(label) must be true or false") }
            return []
        case .enum:
            let allowed = spec.values ?? []
            if !allowed.contains(value) {
                return bad("\(label) must be one of \(allowed.map(\.text).joined(separator: ", ")), not \(value.text)")
            }
            return []
        case .datetime:
            guard case .string(let s) = value, Clock.parseRFC3339(s) != nil else { return bad("\(label) must be an RFC 3339 date-time") }
            return []
        case .reference:
            guard case .string(let target) = value else { return bad("\(label) must be the path of a \(spec.to ?? "") entity") }
            guard let other = try await reader.entity(target) else { return bad("\(label) refers to '\(target)', which does not exist") }
            let otherType = typeID(of: other, reader)
            if otherType != spec.to {
                return bad("\(label) refers to '\(target)', a \(otherType ?? "file of no type"), not a \(spec.to ?? "")")
            }
            return []
        case .list:
            guard case .array(let items) = value else { return bad("\(label) must be a list") }
            if let lo = spec.minItems, items.count < lo { return bad("\(label) needs at least \(lo) item(s)") }
            if let hi = spec.maxItems, items.count > hi { return bad("\(label) may have at most \(hi) item(s)") }
            guard let itemSpec = spec.items else { return [] }
            var out: [Violation] = []
            for (i, item) in items.enumerated() {
                out += try await check(
                    item,
                    itemSpec,
                    label: label + "[]",
                    pointer: "\(pointer)/\(i)",
                    type: type,
                    path: path,
                    reader: reader
                )
            }
            return out
        }
    }

    private func constraint(_ rule: Rule, _ entity: Entity, reader: WorldReader) async throws -> [Violation] {
        let c = rule.spec
        func bad(_ pointer: String, _ detail: String? = nil) -> [Violation] {
            [Violation(constraint: c.name, path: entity.path, pointer: pointer, message: c.message + (detail.map { " (\($0))" } ?? ""))]
        }
        let propertyPointer = c.property.map { entity.propertiesPointer + "/" + JSONValue.escape($0) } ?? ""
        let value = c.property.flatMap { entity.properties[$0] }.flatMap { $0 == .null ? nil : $0 }
        switch c.kind {
        case .range:
            guard let value else { return [] }
            guard let x = Expression.number(value) else { return bad(propertyPointer, "not a number") }
            if let lo = c.minimum, x < lo { return bad(propertyPointer, "\(Self.show(x)) < \(Self.show(lo))") }
            if let hi = c.maximum, x > hi { return bad(propertyPointer, "\(Self.show(x)) > \(Self.show(hi))") }
            return []
        case .enum:
            guard let value else { return [] }
            return (c.values ?? []).contains(value) ? [] : bad(propertyPointer, value.text)
        case .pattern:
            guard case .string(let s)? = value else { return [] }
            return rule.pattern?.matches(s) == false ? bad(propertyPointer, s) : []
        case .near:
            guard let target = c.target, let limit = c.distance, let geometry = entity.geometry else { return [] }
            var best = Double.infinity
            var seen = Set<String>()
            // Nearest cells first: the search stops at the first entity close enough.
            for cell in SpatialIndex.byDistance(SpatialIndex.cells(around: geometry, metres: limit), from: geometry) {
                for path in try await reader.entries(under: SpatialIndex.prefix(type: target, cell: cell))
                where path != entity.path && seen.insert(path).inserted {
                    guard let other = try await reader.entity(path), typeID(of: other, reader) == target,
                        let d = Geo.distance(geometry, other.geometry)
                    else { continue }
                    best = min(best, d)
                    if best <= limit { return [] }
                }
            }
            return bad("/geometry", best.isFinite ? "the nearest \(target) is \(Int(best.rounded())) m away" : "there is no \(target)")
        case .inside:
            guard let target = c.target, let geometry = entity.geometry else { return [] }
            let points = Geo.parts(geometry).flatMap { $0 }
            guard !points.isEmpty else { return [] }
            for path in try await candidates(of: target, around: geometry, metres: 0, reader: reader) where path != entity.path {
                guard let other = try await reader.entity(path), typeID(of: other, reader) == target else { continue }
                for polygon in Geo.polygons(other.geometry) where points.allSatisfy({ Geo.contains(polygon, $0) }) { return [] }
            }
            return bad("/geometry", "inside no \(target)")
        case .hierarchy:
            return try await hierarchy(c, entity, reader: reader)
        case .acyclic:
            guard let link = c.link else { return [] }
            var seen: Set<String> = []
            var stack = entity.links[link] ?? []
            while let next = stack.popLast(), seen.count < 10_000 {
                if next == entity.path { return bad("/links/" + JSONValue.escape(link), "following '\(link)' leads back here") }
                guard seen.insert(next).inserted, let other = try await reader.entity(next) else { continue }
                stack += other.links[link] ?? []
            }
            return []
        case .maxDepth:
            guard let link = c.link, let limit = c.depth else { return [] }
            // Walk up through the entities that link here, one parent at a time.
            var depth = 0
            var current = entity.path
            var seen: Set<String> = [current]
            while depth <= limit {
                var parent: String?
                for candidate in try await reader.referrers(of: current) {
                    if let p = try await reader.entity(candidate), (p.links[link] ?? []).contains(current) {
                        parent = candidate
                        break
                    }
                }
                guard let parent, seen.insert(parent).inserted else { break }
                depth += 1
                current = parent
            }
            return depth > limit ? bad("/links", "more than \(limit) levels of '\(link)' above it") : []
        case .count:
            guard let link = c.link else { return [] }
            let n = Double(entity.links[link]?.count ?? 0)
            guard let limit = limit(c, entity) else { return [] }
            return n > limit ? bad("/links/" + JSONValue.escape(link), "\(Int(n)) > \(Self.show(limit))") : []
        case .sum:
            guard let link = c.link, let property = c.sumProperty, let limit = limit(c, entity) else { return [] }
            var total = 0.0
            for target in entity.links[link] ?? [] {
                if let other = try await reader.entity(target), let x = other.properties[property].flatMap(Expression.number) { total += x }
            }
            return total > limit ? bad("/links/" + JSONValue.escape(link), "\(Self.show(total)) > \(Self.show(limit))") : []
        case .expression:
            guard let e = rule.expression else { return [] }
            let scope = Expression.Scope(properties: entity.properties, linkCounts: entity.links.mapValues(\.count))
            return e.holds(in: scope) ? [] : bad(entity.propertiesPointer, c.expression)
        }
    }

    private func hierarchy(_ c: Constraint, _ entity: Entity, reader: WorldReader) async throws -> [Violation] {
        guard let link = c.link, let order = c.order, let targets = entity.links[link], !targets.isEmpty else { return [] }
        let pointer = "/links/" + JSONValue.escape(link)
        let mine = typeID(of: entity, reader)
        guard let i = mine.flatMap({ order.firstIndex(of: $0) }), i + 1 < order.count else {
            return [
                Violation(
                    constraint: c.name,
                    path: entity.path,
                    pointer: pointer,
                    message: c.message + " (a \(mine ?? "file of no type") has no level below it in \(order.joined(separator: " → ")))"
                )
            ]
        }
        var out: [Violation] = []
        for (j, target) in targets.enumerated() {
            guard let other = try await reader.entity(target) else { continue }  // a missing target is the link rule's to report
            let theirs = typeID(of: other, reader)
            if theirs != order[i + 1] {
                out.append(
                    Violation(
                        constraint: c.name,
                        path: entity.path,
                        pointer: "\(pointer)/\(j)",
                        message: c.message + " (\(mine!) → \(theirs ?? "file of no type"); the next level is \(order[i + 1]))"
                    )
                )
            }
        }
        return out
    }

    private func limit(_ c: Constraint, _ entity: Entity) -> Double? {
        if let p = c.limitProperty { return entity.properties[p].flatMap(Expression.number) ?? c.limit }
        return c.limit
    }

    /// The entities of a type that may lie within `metres` of `geometry`: those the grid index
    /// files in the cells around it.
    private func candidates(of typeID: String, around geometry: JSONValue, metres: Double, reader: WorldReader) async throws -> [String] {
        var out = Set<String>()
        for cell in SpatialIndex.cells(around: geometry, metres: metres) {
            out.formUnion(try await reader.entries(under: SpatialIndex.prefix(type: typeID, cell: cell)))
        }
        return out.sorted()
    }

    static func show(_ x: Double) -> String {
        x.rounded() == x && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }
}
