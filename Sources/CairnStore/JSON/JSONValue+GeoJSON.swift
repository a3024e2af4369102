extension JSONValue {
    /// The value as a number, whether JSON wrote it as an integer or not; nil for anything else.
    public var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// Visits each position (longitude, latitude) of this GeoJSON geometry in order, the parts of a
    /// GeometryCollection included, until `visit` returns false. Import checks positions are
    /// degrees with it, and the feature service takes bounding boxes with it, so both read
    /// geometries alike. Nesting deeper than any GeoJSON geometry is not followed.
    public func forEachPosition(_ visit: (_ lon: Double, _ lat: Double) -> Bool) {
        func walk(_ v: JSONValue, _ depth: Int) -> Bool {
            guard depth < 8, case .array(let items) = v else { return true }
            if items.count >= 2, let lon = items[0].number, let lat = items[1].number { return visit(lon, lat) }
            for item in items where !walk(item, depth + 1) { return false }
            return true
        }
        func geometry(_ g: JSONValue, _ depth: Int) -> Bool {
            guard depth < 8, case .object(let members) = g else { return true }
            if let coordinates = members["coordinates"], !walk(coordinates, 0) { return false }
            if case .array(let parts)? = members["geometries"] {
                for part in parts where !geometry(part, depth + 1) { return false }
            }
            return true
        }
        _ = geometry(self, 0)
    }

    /// This GeoJSON geometry with each position replaced by what `transform` makes of its first
    /// two numbers (any further ones, such as a height, kept); nil when `transform` gives nil for
    /// any position. Import reprojects with it and the feature service answers in other systems
    /// with it, walking geometries as `forEachPosition` does.
    public func mapPositions(_ transform: (_ x: Double, _ y: Double) -> (Double, Double)?) -> JSONValue? {
        func walk(_ v: JSONValue, _ depth: Int) -> JSONValue? {
            guard depth < 8, case .array(let items) = v else { return v }
            if items.count >= 2, let x = items[0].number, let y = items[1].number {
                guard let (a, b) = transform(x, y) else { return nil }
                return .array([.double(a), .double(b)] + items.dropFirst(2))
            }
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for item in items {
                guard let mapped = walk(item, depth + 1) else { return nil }
                out.append(mapped)
            }
            return .array(out)
        }
        func geometry(_ g: JSONValue, _ depth: Int) -> JSONValue? {
            guard depth < 8, case .object(var members) = g else { return g }
            if let coordinates = members["coordinates"] {
                guard let mapped = walk(coordinates, 0) else { return nil }
                members["coordinates"] = mapped
            }
            if case .array(let parts)? = members["geometries"] {
                var out: [JSONValue] = []
                for part in parts {
                    guard let mapped = geometry(part, depth + 1) else { return nil }
                    out.append(mapped)
                }
                members["geometries"] = .array(out)
            }
            members["bbox"] = nil
            return .object(members)
        }
        return geometry(self, 0)
    }
}
