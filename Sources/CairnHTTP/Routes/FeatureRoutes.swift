import CairnCore
import CairnGovernance
import CairnStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// OGC API – Features (Part 1: Core and GeoJSON) per project, under `/projects/{p}/ogc`, so QGIS,
/// GDAL and OWSLib read the world model as they read any feature service. Every request goes
/// through the Gateway's features area: a key scoped to some paths sees only those features.
extension Routes {
    static let conformance = [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        // A Cairn extension: `datetime` (an instant) reads the collection as it was then.
        asOf,
    ]
    static let asOf = "https://cairn.dev/spec/ogcapi-features/as-of"
    static let crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

    func registerFeatures(on org: RouterGroup<Context>) {
        // Export: every Feature file a glob matches, as one GeoJSON FeatureCollection or an
        // RFC 8142 text sequence, streamed as it is read (memory flat in the number of features).
        org.get("/projects/:project/export") { req, ctx in
            try Self.refuseUnknown(req, allowed: ["glob", "ref", "datetime", "bbox", "f"], formats: ["geojson", "geojsonseq"])
            let q = Query(request: req)
            let (caller, project) = (try ctx.caller, try ctx.parameters.require("project"))
            let glob = q.string("glob") ?? "**"
            let bbox = try q.string("bbox").map(Self.bbox)
            let sequence = q.string("f") == "geojsonseq"
            // Resolved and authorized before the first byte (errors are still errors); the export
            // reads one commit however others write meanwhile.
            let started = try await gateway.features.export(caller, project: project, glob: glob, at: try Self.ref(q), bbox: bbox)
            return Response(
                status: .ok,
                headers: [
                    .contentType: sequence ? "application/geo+json-seq" : "application/geo+json",
                    HTTPField.Name("X-Cairn-Commit")!: started.commit,
                ],
                body: ResponseBody { writer in
                    var export = started
                    try await writer.write(ByteBuffer(bytes: FeatureExport.opening(sequence: sequence)))
                    var first = true
                    while let page = try await export.next() {
                        let bytes = FeatureExport.encode(page, sequence: sequence, first: &first)
                        if !bytes.isEmpty { try await writer.write(ByteBuffer(bytes: bytes)) }
                    }
                    try await writer.write(ByteBuffer(bytes: FeatureExport.closing(sequence: sequence)))
                    try await writer.finish(nil)
                }
            )
        }
        let ogc = org.group("/projects/:project/ogc")
        ogc.get("") { req, ctx in
            try Self.refuseUnknown(req, allowed: ["f"])
            let base = try base(req, ctx)
            let project = try ctx.parameters.require("project")
            _ = try await gateway.features.resolve(try ctx.caller, project: project, ref: "main")
            return JSON.response(
                json: .object([
                    "title": .string("Cairn project \(project)"),
                    "description": .string("The project's features, as OGC API – Features collections."),
                    "links": .array([
                        Self.link(base, "self", "application/json", "this document"),
                        Self.link("/v1/openapi.json", "service-desc", "application/vnd.oai.openapi+json;version=3.1", "the API definition"),
                        Self.link(base + "/conformance", "conformance", "application/json", "conformance classes"),
                        Self.link(base + "/collections", "data", "application/json", "the collections"),
                    ]),
                ])
            )
        }
        ogc.get("/conformance") { req, ctx in
            try Self.refuseUnknown(req, allowed: ["f"])
            _ = try ctx.caller
            return JSON.response(json: .object(["conformsTo": .array(Self.conformance.map(JSONValue.string))]))
        }
        ogc.get("/collections") { req, ctx in
            try Self.refuseUnknown(req, allowed: ["f", "ref", "datetime"])
            let base = try base(req, ctx)
            let ref = try Self.ref(Query(request: req))
            let (caller, project) = (try ctx.caller, try ctx.parameters.require("project"))
            // Without an ontology the folders are found by a scan: bounded by the request timeout.
            let (_, collections) = try await timed { try await gateway.features.collections(caller, project: project, at: ref) }
            return JSON.response(
                json: .object([
                    "links": .array([Self.link(base + "/collections", "self", "application/json", "the collections")]),
                    "collections": .array(collections.map { Self.describe($0, base: base, ref: ref) }),
                ])
            )
        }
        ogc.get("/collections/:collection") { req, ctx in
            try Self.refuseUnknown(req, allowed: ["f", "ref", "datetime"])
            let base = try base(req, ctx)
            let ref = try Self.ref(Query(request: req))
            let (_, collection) = try await gateway.features.collection(
                try ctx.caller,
                project: try ctx.parameters.require("project"),
                id: try ctx.parameters.require("collection"),
                at: ref
            )
            return JSON.response(json: Self.describe(collection, base: base, ref: ref))
        }
        ogc.get("/collections/:collection/items") { req, ctx in
            try Self.refuseUnknown(req, allowed: ["f", "ref", "datetime", "bbox", "limit", "cursor"])
            let q = Query(request: req)
            let base = try base(req, ctx)
            let collection = try ctx.parameters.require("collection")
            let bbox = try q.string("bbox").map(Self.bbox)
            let limit = try q.int("limit", default: 10, range: 1...FeaturesArea.maxLimit)
            let caller = try ctx.caller
            let project = try ctx.parameters.require("project")
            let page = try await timed {
                try await gateway.features.items(
                    caller,
                    project: project,
                    collection: collection,
                    at: try Self.ref(q),
                    bbox: bbox,
                    limit: limit,
                    cursor: q.string("cursor")
                )
            }
            let items = base + "/collections/" + Self.escape(collection) + "/items"
            // Links carry the commit read, so following `next` reads the same state of the world.
            var query = "ref=\(page.commit)&limit=\(limit)"
            if let raw = q.string("bbox") { query += "&bbox=" + Self.escape(raw) }
            var links = [Self.link(items + "?" + query, "self", "application/geo+json", "this page")]
            if let next = page.next {
                links.append(
                    Self.link(items + "?" + query + "&cursor=" + Self.escape(next), "next", "application/geo+json", "the next page")
                )
            }
            return Self.geoJSON(
                .object([
                    "type": .string("FeatureCollection"),
                    "features": .array(page.features),
                    "numberReturned": .int(Int64(page.features.count)),
                    "timeStamp": .string(Clock.rfc3339(Clock.nowMillis())),
                    "links": .array(links),
                ])
            )
        }
        ogc.get("/collections/:collection/items/**") { req, ctx in
            try Self.refuseUnknown(req, allowed: ["f", "ref", "datetime"])
            let base = try base(req, ctx)
            let collection = try ctx.parameters.require("collection")
            let segments = req.uri.path.split(separator: "/", omittingEmptySubsequences: false)
            guard segments.count > 10, let path = PercentDecoding.decode(segments[10...].joined(separator: "/")), !path.isEmpty else {
                throw CairnError(.invalidArgument, "the URL names no feature")
            }
            let (_, feature) = try await gateway.features.item(
                try ctx.caller,
                project: try ctx.parameters.require("project"),
                collection: collection,
                id: try FilePath(path).string,
                at: try Self.ref(Query(request: req))
            )
            guard case .object(var members) = feature else { return Self.geoJSON(feature) }
            let collectionURL = base + "/collections/" + Self.escape(collection)
            members["links"] = .array([
                Self.link(
                    collectionURL + "/items/" + path.split(separator: "/").map { Self.escape(String($0)) }.joined(separator: "/"),
                    "self",
                    "application/geo+json",
                    "this feature"
                ),
                Self.link(collectionURL, "collection", "application/json", "its collection"),
            ])
            return Self.geoJSON(.object(members))
        }
    }

    /// The absolute URL of the project's OGC API: clients follow the links as given.
    func base(_ req: Request, _ ctx: Context) throws -> String {
        let host = req.head.authority ?? "\(config.host):\(config.port)"
        let scheme = config.tlsCertificate == nil ? "http" : "https"
        let org = try ctx.parameters.require("org")
        let project = try ctx.parameters.require("project")
        return "\(scheme)://\(host)/v1/orgs/\(Self.escape(org))/projects/\(Self.escape(project))/ogc"
    }

    static func describe(_ c: FeatureCollection, base: String, ref: String) -> JSONValue {
        let url = base + "/collections/" + escape(c.id)
        let suffix = ref == "main" ? "" : "?ref=" + escape(ref)
        return .object([
            "id": .string(c.id),
            "title": .string(c.title),
            "itemType": .string("feature"),
            "crs": .array([.string(crs84)]),
            "links": .array([
                link(url + suffix, "self", "application/json", "this collection"),
                link(url + "/items" + suffix, "items", "application/geo+json", "its features"),
            ]),
        ])
    }

    static func link(_ href: String, _ rel: String, _ type: String, _ title: String) -> JSONValue {
        .object(["href": .string(href), "rel": .string(rel), "type": .string(type), "title": .string(title)])
    }

    static func geoJSON(_ value: JSONValue) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/geo+json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.compactBytes))
        )
    }

    /// The ref to read: `ref` (default `main`), as it was at `datetime` when one is given. Cairn
    /// reads `datetime` as "as of" (the world at that instant, a stated extension), so only an
    /// instant is meaningful; an interval is refused rather than read some other way.
    static func ref(_ q: Query) throws -> String {
        let ref = q.string("ref") ?? "main"
        guard let instant = q.string("datetime") else { return ref }
        guard !instant.contains("/"), Clock.parseRFC3339(instant) != nil else {
            throw CairnError(
                .invalidArgument,
                "datetime is one RFC 3339 instant (the collection as it was then), such as 2026-05-01T12:00:00Z; intervals are not served",
                details: ["parameter": "datetime"]
            )
        }
        guard !ref.contains("@") else {
            throw CairnError(
                .invalidArgument,
                "give the time once: in ref (BRANCH@TIME) or in datetime",
                details: ["parameter": "datetime"]
            )
        }
        return ref + "@" + instant
    }

    /// `west,south,east,north` in degrees.
    static func bbox(_ raw: String) throws -> [Double] {
        let parts = raw.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 4, parts.allSatisfy({ $0 != nil }) else {
            throw CairnError(.invalidArgument, "bbox is four numbers: west,south,east,north", details: ["parameter": "bbox"])
        }
        return parts.map { $0! }
    }

    /// OGC API – Features answers 400 for a query parameter it does not define, so a filter the
    /// server does not understand is never silently ignored.
    static func refuseUnknown(_ req: Request, allowed: Set<String>, formats: Set<String> = ["json", "geojson"]) throws {
        for (name, _) in req.uri.queryParameters where !allowed.contains(String(name)) {
            throw CairnError(
                .invalidArgument,
                "'\(name)' is not a parameter of this request; it takes \(allowed.sorted().joined(separator: ", "))",
                details: ["parameter": String(name)]
            )
        }
        if let f = req.uri.queryParameters.get("f"), !formats.contains(f) {
            throw CairnError(.invalidArgument, "f is \(formats.sorted().joined(separator: " or "))", details: ["parameter": "f"])
        }
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+/?#"))) ?? s
    }
}
