import CairnCompute
import CairnCore
import CairnGovernance
import CairnStore

/// The documents of a project's OGC API – Features service that describe rather than serve
/// features: the landing page, a collection, its schema, and the service's own OpenAPI 3.0
/// description (what GDAL and QGIS read for paths and parameters; Cairn's whole API is described
/// in OpenAPI 3.1 at /v1/openapi.json, a version these clients do not read).
enum OGCDocuments {
    static func landing(project: String, base: String) -> JSONValue {
        .object([
            "title": .string("Cairn project \(project)"),
            "description": .string("The project's features, as OGC API – Features collections."),
            "links": .array([
                Routes.link(base, "self", "application/json", "this document"),
                Routes.link(base + "/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API definition"),
                Routes.link(base + "/conformance", "conformance", "application/json", "conformance classes"),
                Routes.link(base + "/collections", "data", "application/json", "the collections"),
            ]),
        ])
    }

    static func collection(_ c: FeatureCollection, base: String, ref: String) -> JSONValue {
        let url = base + "/collections/" + Routes.escape(c.id)
        let suffix = ref == "main" ? "" : "?ref=" + Routes.escape(ref)
        var members: [String: JSONValue] = [
            "id": .string(c.id),
            "title": .string(c.title),
            "itemType": .string("feature"),
            "crs": .array(c.systems.map { .string($0.uri) }),
            "storageCrs": .string(CoordinateSystem.crs84.uri),
            "links": .array([
                Routes.link(url + suffix, "self", "application/json", "this collection"),
                Routes.link(url + "/items" + suffix, "items", "application/geo+json", "its features"),
                // Relation types compare case-insensitively (RFC 8288); GDAL looks for this spelling.
                Routes.link(url + "/schema" + suffix, "describedBy", "application/schema+json", "the schema of its features"),
            ]),
        ]
        if let box = c.summary?.box {
            members["extent"] = .object([
                "spatial": .object([
                    "bbox": .array([.array([.double(box.west), .double(box.south), .double(box.east), .double(box.north)])]),
                    "crs": .string(CoordinateSystem.crs84.uri),
                ])
            ])
        }
        return .object(members)
    }

    /// A JSON Schema of the collection's features, GeoJSON-shaped, with one property per name its
    /// features carry and the type they agree on.
    static func schema(_ c: FeatureCollection, base: String) -> JSONValue {
        var properties: [String: JSONValue] = [:]
        for (name, type) in c.summary?.propertyTypes ?? [] { properties[name] = .object(["type": .string(type)]) }
        return .object([
            "$schema": .string("https://json-schema.org/draft/2020-12/schema"),
            "$id": .string(base + "/collections/" + Routes.escape(c.id) + "/schema"),
            "title": .string(c.title),
            "type": .string("object"),
            "properties": .object([
                "type": .object(["type": .string("string"), "enum": .array([.string("Feature")])]),
                "id": .object(["type": .string("string")]),
                "geometry": .object(["type": .string("object")]),
                "properties": .object(["type": .string("object"), "properties": .object(properties)]),
            ]),
        ])
    }

    /// The service's paths and parameters as OpenAPI 3.0, relative to the project's service.
    static func openAPI(base: String) -> JSONValue {
        func parameter(
            _ name: String,
            _ description: String,
            _ schema: JSONValue,
            required: Bool = false,
            in place: String = "query"
        )
            -> JSONValue
        {
            .object([
                "name": .string(name), "in": .string(place), "required": .bool(required), "description": .string(description),
                "schema": schema,
            ])
        }
        let string: JSONValue = .object(["type": .string("string")])
        let json: JSONValue = .object(["description": .string("a JSON document"), "content": .object(["application/json": .object([:])])])
        let geo: JSONValue = .object([
            "description": .string("GeoJSON"), "content": .object(["application/geo+json": .object([:])]),
        ])
        let failure: JSONValue = .object([
            "description": .string("an error: {\"error\": {\"code\", \"message\", \"details\"}}"),
            "content": .object(["application/json": .object([:])]),
        ])
        func operation(_ id: String, _ summary: String, _ parameters: [JSONValue], _ ok: JSONValue) -> JSONValue {
            .object([
                "get": .object([
                    "operationId": .string(id), "summary": .string(summary), "parameters": .array(parameters),
                    "responses": .object(["200": ok, "400": failure, "404": failure]),
                ])
            ])
        }
        let collectionID = parameter("collectionId", "a collection", string, required: true, in: "path")
        let ref = parameter("ref", "a branch, a commit, or BRANCH@TIME (default main)", string)
        let datetime = parameter("datetime", "an RFC 3339 instant: the collection as it was then", string)
        let crs = parameter("crs", "the system to answer in (one of the collection's crs)", string)
        return .object([
            "openapi": .string("3.0.3"),
            "info": .object(["title": .string("Cairn OGC API – Features"), "version": .string("1.0.0")]),
            "servers": .array([.object(["url": .string(base)])]),
            "paths": .object([
                "/": operation("getLandingPage", "the landing page", [], json),
                "/conformance": operation("getConformance", "the conformance classes", [], json),
                "/collections": operation("getCollections", "the collections", [ref, datetime], json),
                "/collections/{collectionId}": operation("describeCollection", "one collection", [collectionID, ref, datetime], json),
                "/collections/{collectionId}/items": operation(
                    "getFeatures",
                    "a page of the collection's features; any other parameter filters on a property of that name",
                    [
                        collectionID,
                        parameter(
                            "limit",
                            "features per page",
                            .object([
                                "type": .string("integer"), "minimum": .int(1), "maximum": .int(Int64(FeaturesArea.maxLimit)),
                                "default": .int(10),
                            ])
                        ),
                        parameter(
                            "bbox",
                            "minx,miny,maxx,maxy (in bbox-crs, default CRS84)",
                            .object([
                                "type": .string("array"), "minItems": .int(4), "maxItems": .int(4),
                                "items": .object(["type": .string("number")]),
                            ])
                        ),
                        parameter("bbox-crs", "the system of bbox", string),
                        crs, ref, datetime,
                        parameter("cursor", "where the next page starts (from a next link)", string),
                    ],
                    geo
                ),
                "/collections/{collectionId}/items/{featureId}": operation(
                    "getFeature",
                    "one feature",
                    [
                        collectionID, parameter("featureId", "the feature's id (its file's path)", string, required: true, in: "path"), crs,
                        ref, datetime,
                    ],
                    geo
                ),
            ]),
        ])
    }
}
