import CairnCore
import CairnGovernance
import CairnStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Features out of the store: exports, and (OGCRoutes.swift) OGC API – Features per project.
extension Routes {
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
        registerOGC(on: org)
    }

    /// The absolute URL of the project's OGC API: clients follow the links as given.
    func base(_ req: Request, _ ctx: Context) throws -> String {
        let host = req.head.authority ?? "\(config.host):\(config.port)"
        let scheme = config.tlsCertificate == nil ? "http" : "https"
        let org = try ctx.parameters.require("org")
        let project = try ctx.parameters.require("project")
        return "\(scheme)://\(host)/v1/orgs/\(Self.escape(org))/projects/\(Self.escape(project))/ogc"
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
