import Foundation

/// The paths, methods and request-body shapes of the OpenAPI document, read from the
/// compiled-in copy so the server and its spec cannot drift apart:
/// - a known path with an undeclared method answers 405 with `Allow` (Hummingbird's router
///   only says "no route matched");
/// - a body field the spec does not declare is refused, so a misspelt `basedOn` is an error
///   rather than a silently unguarded write (Swift's `Decodable` ignores unknown keys).
struct RouteTable: Sendable {
    struct Entry: Sendable {
        let segments: [Segment]
        let methods: [String]
    }
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter
        case rest
    }

    let entries: [Entry]
    /// The entries with a JSON body, by method: a request's body shape is looked up on every
    /// write, among these only.
    private let withBody: [String: [(segments: [Segment], shape: BodyShape)]]

    static let shared = RouteTable(document: OpenAPIDocument.bytes)

    init(document: [UInt8]) {
        let json = (try? JSONSerialization.jsonObject(with: Data(document))) as? [String: Any]
        let paths = json?["paths"] as? [String: Any] ?? [:]
        let components = (json?["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        let verbs: Set<String> = ["get", "put", "post", "patch", "delete", "head", "options"]
        var withBody: [String: [(segments: [Segment], shape: BodyShape)]] = [:]
        entries = paths.map { template, item in
            let operations = (item as? [String: Any]) ?? [:]
            let methods = operations.keys.filter(verbs.contains).map { $0.uppercased() }.sorted()
            let segments: [Segment] = template.split(separator: "/").map { part in
                // `{path}` is the one catch-all parameter: a file path keeps its slashes.
                part == "{path}" ? .rest : part.hasPrefix("{") ? .parameter : .literal(String(part))
            }
            for method in methods {
                let operation = operations[method.lowercased()] as? [String: Any]
                let content = (operation?["requestBody"] as? [String: Any])?["content"] as? [String: Any]
                if let schema = (content?["application/json"] as? [String: Any])?["schema"] {
                    withBody[method, default: []].append((segments, BodyShape(schema: schema, components: components)))
                }
            }
            return Entry(segments: segments, methods: methods)
        }
        self.withBody = withBody
    }

    /// The methods declared for `path`, or nil when no declared path matches it.
    func methods(for path: String) -> [String]? {
        let parts = path.split(separator: "/")
        var found: Set<String> = []
        for entry in entries where Self.matches(entry.segments[...], parts[...]) {
            found.formUnion(entry.methods)
        }
        return found.isEmpty ? nil : found.sorted()
    }

    /// The declared shape of the JSON body of `method` on `path`, if it has one.
    func body(method: String, path: String) -> BodyShape? {
        guard let candidates = withBody[method] else { return nil }
        let parts = path.split(separator: "/")
        for candidate in candidates where Self.matches(candidate.segments[...], parts[...]) { return candidate.shape }
        return nil
    }

    private static func matches(_ segments: ArraySlice<Segment>, _ parts: ArraySlice<Substring>) -> Bool {
        guard let first = segments.first else { return parts.isEmpty }
        switch first {
        case .rest: return !parts.isEmpty
        case .parameter: return !parts.isEmpty && matches(segments.dropFirst(), parts.dropFirst())
        case .literal(let s): return parts.first.map { $0 == s } == true && matches(segments.dropFirst(), parts.dropFirst())
        }
    }
}
