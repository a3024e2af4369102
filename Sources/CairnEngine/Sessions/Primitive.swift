import CairnCore
import CairnStore
import Foundation

/// The eight primitives, the only tools an agent has: their names, the JSON Schema of their
/// arguments, descriptions written for a language model, and truthful annotations. One
/// description: the MCP surface advertises exactly these schemas, and the engine checks every
/// call against them (`ArgumentSchema`) before it acts, so a limit an agent is shown is a limit
/// that holds.
public struct Primitive: Sendable {
    public let name: String
    public let readOnly: Bool
    public let destructive: Bool
    public let idempotent: Bool
    public let description: String
    /// The arguments' JSON Schema, as advertised (a literal of this file).
    public let schemaText: String
    /// The same schema, parsed once: what every call is checked against.
    public let schema: JSONValue

    init(name: String, readOnly: Bool, destructive: Bool, idempotent: Bool, description: String, schema: String) {
        self.name = name
        self.readOnly = readOnly
        self.destructive = destructive
        self.idempotent = idempotent
        self.description = description
        schemaText = schema
        // The schemas are literals of this file: parsing them cannot fail.
        self.schema = try! JSONDecoder().decode(JSONValue.self, from: Data(schema.utf8))
    }

    /// The JSON Schema keywords a primitive's schema may use: those the engine enforces (or,
    /// like `description`, that carry no rule).
    public static var schemaKeywords: Set<String> { ArgumentSchema.keywords }

    /// The primitive named `name`, if there is one.
    public static func named(_ name: String) -> Primitive? { all.first { $0.name == name } }

    public static let all: [Primitive] = [
        Primitive(
            name: "Read",
            readOnly: true,
            destructive: false,
            idempotent: true,
            description:
                "Read a file of the world model (each entity is a JSON file: a GeoJSON Feature with properties and links). Returns its "
                + "lines numbered from 1, a page at a time: pass `offset` (first line) and `limit` to read more of a long file.",
            schema:
                #"{"type":"object","properties":{"path":{"type":"string","description":"The file's path in the project, e.g. fiber/cabinets/1.json"},"offset":{"type":"integer","minimum":1,"description":"First line to return (1-based)"},"limit":{"type":"integer","minimum":1,"maximum":2000,"description":"At most this many lines"}},"required":["path"],"additionalProperties":false}"#
        ),
        Primitive(
            name: "Write",
            readOnly: false,
            destructive: true,
            idempotent: true,
            description:
                "Create or replace a whole file, as one commit on this run's branch (validated against the project's ontology; refused "
                + "with the violations if it breaks a rule). Give the reason for the change: it is recorded as the commit's why. Prefer "
                + "Edit for small changes to an existing file.",
            schema:
                #"{"type":"object","properties":{"path":{"type":"string","description":"The file's path in the project"},"content":{"type":"string","description":"The complete new content (JSON for entities)"},"reason":{"type":"string","minLength":1,"description":"Why this change is made"}},"required":["path","content","reason"],"additionalProperties":false}"#
        ),
        Primitive(
            name: "Edit",
            readOnly: false,
            destructive: true,
            idempotent: false,
            description:
                "Replace an exact piece of text in a file, as one commit on this run's branch. `old` must occur exactly once (or pass "
                + "`all` to replace every occurrence); read the file first to copy it exactly. Give the reason for the change.",
            schema:
                #"{"type":"object","properties":{"path":{"type":"string"},"old":{"type":"string","minLength":1,"description":"The exact text to replace"},"new":{"type":"string","description":"The replacement"},"all":{"type":"boolean","description":"Replace every occurrence"},"reason":{"type":"string","minLength":1,"description":"Why this change is made"}},"required":["path","old","new","reason"],"additionalProperties":false}"#
        ),
        Primitive(
            name: "Delete",
            readOnly: false,
            destructive: true,
            idempotent: true,
            description:
                "Delete a file, or every file a glob matches, as one commit on this run's branch (history keeps every past version). "
                + "Give the reason.",
            schema:
                #"{"type":"object","properties":{"path":{"type":"string","description":"A path or a glob (*, **, ?, [...])"},"reason":{"type":"string","minLength":1,"description":"Why"}},"required":["path","reason"],"additionalProperties":false}"#
        ),
        Primitive(
            name: "Glob",
            readOnly: true,
            destructive: false,
            idempotent: true,
            description:
                "List the paths matching a glob (`*` within a folder, `**` across folders, `?`, `[...]`), in order, a page at a time: "
                + "pass the returned `next` as `cursor` for more.",
            schema:
                #"{"type":"object","properties":{"pattern":{"type":"string","minLength":1,"description":"e.g. fiber/**/*.json"},"limit":{"type":"integer","minimum":1,"maximum":5000},"cursor":{"type":"string"}},"required":["pattern"],"additionalProperties":false}"#
        ),
        Primitive(
            name: "Grep",
            readOnly: true,
            destructive: false,
            idempotent: true,
            description:
                "Search file contents with a regular expression (PCRE2). `mode`: `files` (which files match, the default), `lines` "
                + "(matching lines with their numbers, optionally with `context` lines around) or `count` (matches per file). Narrow "
                + "with `glob`.",
            schema:
                #"{"type":"object","properties":{"pattern":{"type":"string","minLength":1},"glob":{"type":"string"},"mode":{"type":"string","enum":["files","lines","count"]},"caseInsensitive":{"type":"boolean"},"context":{"type":"integer","minimum":0,"maximum":20},"limit":{"type":"integer","minimum":1,"maximum":10000}},"required":["pattern"],"additionalProperties":false}"#
        ),
        Primitive(
            name: "Run",
            readOnly: false,
            destructive: true,
            idempotent: true,
            description:
                "Deterministic geo-math on the world model (no network): `distance` and `length` (haversine and WGS84 geodesic), `area` "
                + "(geodesic), `centroid`, `bbox`, `contains`, `nearest`, `snap` (nearest road position), `route` (along the roads, by "
                + "distance or time, respecting one-way streets), `isochrone` (what is reachable within a budget), `routes` (a batch of "
                + "[origin, destination] `pairs`: each leg's length and time), `matrix` (the cost from each point to each of "
                + "`destinations`, or to each point). Points are [lon, lat]; `inputs` are paths or globs of GeoJSON files (Point files "
                + "give points to the point functions). The road files are named by one content id; `provenance` `full` lists them. "
                + "With `output` (and a `reason`) the result is also written there.",
            schema:
                #"{"type":"object","properties":{"function":{"type":"string","enum":["distance","length","area","centroid","bbox","contains","nearest","snap","route","isochrone","routes","matrix"]},"points":{"type":"array","items":{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":2}},"inputs":{"type":"array","items":{"type":"string"}},"geometry":{"type":"object"},"roads":{"type":"string","description":"The road files (a glob, default roads/**)"},"classes":{"type":"array","items":{"type":"string"}},"weight":{"type":"string","enum":["distance","time"]},"budget":{"type":"number","minimum":0},"pairs":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":2},"minItems":2,"maxItems":2},"maxItems":10000},"destinations":{"type":"array","items":{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":2}},"provenance":{"type":"string","enum":["summary","full"]},"output":{"type":"string"},"reason":{"type":"string"}},"required":["function"],"additionalProperties":false}"#
        ),
        Primitive(
            name: "Solve",
            readOnly: false,
            destructive: false,
            idempotent: false,
            description:
                "Optimization on local solvers: `linear` (an LP or MIP model file, .json/.lp/.mps, or an inline `model`), `routing` "
                + "(vehicles with capacities and time windows: `depots` and `stops` Point files, costs along `roads`), "
                + "`facility_location` (which `depots` serve which `stops`), `crew_assignment` (which crew takes which work order). "
                + "Returns status, objective, bound and gap, values, binding constraints and the objective's drivers. With `output` "
                + "(and a `reason`), the model, result and log are written to output/<timestamp>/.",
            schema:
                #"{"type":"object","properties":{"kind":{"type":"string","enum":["linear","routing","facility_location","crew_assignment"]},"input":{"type":"string"},"model":{},"format":{"type":"string","enum":["json","lp","mps"]},"solver":{"type":"string","enum":["auto","glpk","cbc"]},"timeLimit":{"type":"number","exclusiveMinimum":0,"maximum":600},"gap":{"type":"number","minimum":0},"seed":{"type":"integer","minimum":0},"iterations":{"type":"integer","minimum":1,"maximum":1000000},"stops":{"type":"string"},"depots":{"type":"string"},"roads":{"type":"string"},"vehicles":{"type":"integer","minimum":1},"capacity":{"type":"number","minimum":0},"shiftEnd":{"type":"number","minimum":0},"maxDuration":{"type":"number","minimum":0},"maxDistance":{"type":"number","minimum":0},"output":{"type":"string"},"reason":{"type":"string"}},"required":["kind"],"additionalProperties":false}"#
        ),
    ]
}
