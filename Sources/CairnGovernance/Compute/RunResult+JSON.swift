import CairnCompute
import CairnStore

// Run's answers as JSON values built directly: the same members `Encodable` gives them, without
// a trip through `JSONEncoder` and back (an isochrone's thousands of numbers made that most of
// a request's time).

extension Coordinate {
    var json: JSONValue { .object(["lon": .double(lon), "lat": .double(lat)]) }
}

extension RoadNetwork.Snap {
    var json: JSONValue {
        .object([
            "input": input.json, "point": point.json, "distance": .double(distance), "road": .string(road), "offset": .double(offset),
            "fraction": .double(fraction),
        ])
    }
}

extension RoadNetwork.Route {
    var json: JSONValue {
        .object([
            "coordinates": .array(coordinates.map(\.json)), "length": .double(length), "time": .double(time),
            "roads": .array(roads.map(JSONValue.string)), "snapped": .array(snapped.map(\.json)),
        ])
    }
}

extension RoadNetwork.Isochrone {
    var json: JSONValue {
        .object([
            "start": start.json, "budget": .double(budget), "weight": .string(weight.rawValue), "nodes": .array(nodes.map(\.json)),
            "costs": .array(costs.map(JSONValue.double)), "hull": .array(hull.map(\.json)),
        ])
    }
}

extension RoadNetwork.Leg {
    var json: JSONValue {
        var o: [String: JSONValue] = ["reachable": .bool(reachable)]
        if let length { o["length"] = .double(length) }
        if let time { o["time"] = .double(time) }
        if let roads { o["roads"] = .int(Int64(roads)) }
        return .object(o)
    }
}

extension RunResult {
    /// The answer as JSON (the members `Encodable` gives, absent ones left out), for writers
    /// faster than `JSONEncoder` (`JSONValue.compactBytes`).
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "function": .string(function), "commit": .string(commit), "result": result,
            "inputs": .array(inputs.map { .object(["path": .string($0.path), "blob": .string($0.blob)]) }),
        ]
        if let roads { o["roads"] = .object(["id": .string(roads.id), "glob": .string(roads.glob), "files": .int(Int64(roads.files))]) }
        if let output { o["output"] = (try? ComputeArea.json(output)) ?? .null }
        return .object(o)
    }
}
