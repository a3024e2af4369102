import CairnCompute
import CairnCore
import CairnGovernance
import CairnStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// OGC API – Features per project, under `/projects/{p}/ogc`: Part 1 (Core, GeoJSON, OpenAPI 3.0)
/// and Part 2 (coordinate systems by reference), so QGIS, GDAL and OWSLib read the world model as
/// they read any feature service. Every request goes through the Gateway's features area: a key
/// scoped to some paths sees only those features, counts and extents.
extension Routes {
    static let conformance = [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        // A Cairn extension: `datetime` (an instant) reads the collection as it was then.
        asOf,
    ]
    static let asOf = "https://cairn.dev/spec/ogcapi-features/as-of"
    static let contentCRS = HTTPField.Name("Content-Crs")!

    /// The parameters `items` defines; any other names a property to filter on.
    static let itemParameters: Set<String> = ["f", "ref", "datetime", "bbox", "bbox-crs", "crs", "limit", "cursor"]

    func registerOGC(on org: RouterGroup<Context>) {
        let ogc = org.group("/projects/:project/ogc")
        ogc.get("") { req, ctx in
            try Self.refuseUnknown(req, allowed: ["f"])
            let base = try base(req, ctx)
            let project = try ctx.parameters.require("project")
            _ = try await gateway.features.resolve(try ctx.caller, project: project, ref: "main")
            return JSON.response(json: OGCDocuments.landing(project: project, base: base))
        }
        ogc.get("/api") { req, ctx in
            try Self.refuseUnknown(req, allowed: ["f"])
            let base = try base(req, ctx)
            _ = try await gateway.features.resolve(try ctx.caller, project: try ctx.parameters.require("project"), ref: "main")
            return Response(
                status: .ok,
                headers: [.contentType: "application/vnd.oai.openapi+json;version=3.0"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: OGCDocuments.openAPI(base: base).compactBytes))
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
            // Without an ontology the folders are found by a scan, and a summary not kept yet is
            // counted: bounded by the request timeout.
            let (_, collections) = try await timed { try await gateway.features.collections(caller, project: project, at: ref) }
            return JSON.response(
                json: .object([
                    "links": .array([Self.link(base + "/collections", "self", "application/json", "the collections")]),
                    "collections": .array(collections.map { OGCDocuments.collection($0, base: base, ref: ref) }),
                ])
            )
        }
        ogc.get("/collections/:collection") { req, ctx in
            try Self.refuseUnknown(req, allowed: ["f", "ref", "datetime"])
            let base = try base(req, ctx)
            let ref = try Self.ref(Query(request: req))
            let (caller, project, id) = (try ctx.caller, try ctx.parameters.require("project"), try ctx.parameters.require("collection"))
            let (_, collection) = try await timed { try await gateway.features.collection(caller, project: project, id: id, at: ref) }
            return JSON.response(json: OGCDocuments.collection(collection, base: base, ref: ref))
        }
        ogc.get("/collections/:collection/schema") { req, ctx in
            try Self.refuseUnknown(req, allowed: ["f", "ref", "datetime"])
            let base = try base(req, ctx)
            let ref = try Self.ref(Query(request: req))
            let (caller, project, id) = (try ctx.caller, try ctx.parameters.require("project"), try ctx.parameters.require("collection"))
            let (_, collection) = try await timed { try await gateway.features.collection(caller, project: project, id: id, at: ref) }
            return Response(
                status: .ok,
                headers: [.contentType: "application/schema+json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: OGCDocuments.schema(collection, base: base).compactBytes))
            )
        }
        // A Cairn extension beside the standard resources: the collection counted per cell of a
        // grid, from the spatial index, for a map at low zoom (see `FeaturesArea.cells`).
        ogc.get("/collections/:collection/cells") { req, ctx in
            try Self.refuseUnknown(req, allowed: ["f", "ref", "datetime", "bbox", "columns", "rows"])
            let q = Query(request: req)
            let bbox = try q.string("bbox").map(Self.bbox)
            let columns = try q.int("columns", default: 64, range: 1...FeaturesArea.maxCells)
            let rows = try q.int("rows", default: 64, range: 1...FeaturesArea.maxCells)
            let (caller, project, id) = (try ctx.caller, try ctx.parameters.require("project"), try ctx.parameters.require("collection"))
            let ref = try Self.ref(q)
            let grid = try await timed {
                try await gateway.features.cells(
                    caller,
                    project: project,
                    collection: id,
                    at: ref,
                    bbox: bbox,
                    columns: columns,
                    rows: rows
                )
            }
            var body: [String: JSONValue] = [
                "commit": .string(grid.commit),
                "columns": .int(Int64(grid.columns)),
                "rows": .int(Int64(grid.rows)),
                "numberMatched": .int(Int64(grid.matched)),
                "cells": .array(
                    grid.cells.map {
                        .object([
                            "column": .int(Int64($0.column)), "row": .int(Int64($0.row)), "count": .int(Int64($0.count)),
                            "center": .array([.double($0.lon), .double($0.lat)]),
                        ])
                    }
                ),
            ]
            if let b = grid.bbox { body["bbox"] = .array(b.map(JSONValue.double)) }
            return JSON.response(json: .object(body))
        }
        ogc.get("/collections/:collection/items") { req, ctx in
            let filters: [(name: String, value: String)] = req.uri.queryParameters.compactMap { (name, value) in
                Self.itemParameters.contains(String(name)) ? nil : (String(name), String(value))
            }
            try Self.refuseUnknown(req, allowed: Self.itemParameters.union(filters.map(\.name)))
            let q = Query(request: req)
            let base = try base(req, ctx)
            let collection = try ctx.parameters.require("collection")
            let bbox = try q.string("bbox").map(Self.bbox)
            let limit = try q.int("limit", default: 10, range: 1...FeaturesArea.maxLimit)
            let (caller, project) = (try ctx.caller, try ctx.parameters.require("project"))
            let page = try await timed {
                try await gateway.features.items(
                    caller,
                    project: project,
                    collection: collection,
                    at: try Self.ref(q),
                    bbox: bbox,
                    bboxCRS: q.string("bbox-crs"),
                    crs: q.string("crs"),
                    properties: filters,
                    limit: limit,
                    cursor: q.string("cursor")
                )
            }
            let items = base + "/collections/" + Self.escape(collection) + "/items"
            // Links carry the commit read, so following `next` reads the same state of the world;
            // every other parameter is carried as given.
            var query = "ref=\(page.commit)&limit=\(limit)"
            for name in ["bbox", "bbox-crs", "crs"] {
                if let raw = q.string(name) { query += "&\(name)=" + Self.escape(raw) }
            }
            for f in filters { query += "&" + Self.escape(f.name) + "=" + Self.escape(f.value) }
            var links = [Self.link(items + "?" + query, "self", "application/geo+json", "this page")]
            if let next = page.next {
                links.append(
                    Self.link(items + "?" + query + "&cursor=" + Self.escape(next), "next", "application/geo+json", "the next page")
                )
            }
            var body: [String: JSONValue] = [
                "type": .string("FeatureCollection"),
                "features": .array(page.features),
                "numberReturned": .int(Int64(page.features.count)),
                "timeStamp": .string(Clock.rfc3339(Clock.nowMillis())),
                "links": .array(links),
            ]
            if let matched = page.matched { body["numberMatched"] = .int(Int64(matched)) }
            return Self.geoJSON(.object(body), crs: q.string("crs"))
        }
        ogc.get("/collections/:collection/items/**") { req, ctx in
            try Self.refuseUnknown(req, allowed: ["f", "ref", "datetime", "crs"])
            let base = try base(req, ctx)
            let collection = try ctx.parameters.require("collection")
            let segments = req.uri.path.split(separator: "/", omittingEmptySubsequences: false)
            guard segments.count > 10, let path = PercentDecoding.decode(segments[10...].joined(separator: "/")), !path.isEmpty else {
                throw CairnError(.invalidArgument, "the URL names no feature")
            }
            let q = Query(request: req)
            let (_, feature) = try await gateway.features.item(
                try ctx.caller,
                project: try ctx.parameters.require("project"),
                collection: collection,
                id: try FilePath(path).string,
                at: try Self.ref(q),
                crs: q.string("crs")
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
            return Self.geoJSON(.object(members), crs: q.string("crs"))
        }
    }

    /// A GeoJSON answer with the system its positions are in (`Content-Crs`, Part 2).
    static func geoJSON(_ value: JSONValue, crs: String?) -> Response {
        var response = geoJSON(value)
        let system = crs.flatMap(CoordinateSystem.init) ?? .crs84
        response.headers[contentCRS] = "<\(system.uri)>"
        return response
    }
}
