import CairnCore
import CairnStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

enum JSON {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func encode(_ value: some Encodable) -> [UInt8] {
        Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    /// An answer, or, if it cannot be written as JSON (a number that is not finite), the one
    /// error model's 500: never a success with an empty body.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        guard let bytes = try? encoder.encode(value) else {
            return HTTPErrorMapping.response(CairnError(.storage, "the server could not write its answer as JSON"))
        }
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    /// A JSON value's answer, written by `JSONWriter` rather than `JSONEncoder` (large answers:
    /// routes, isochrones, matrices).
    static func response(json value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.compactBytes))
        )
    }

    /// A write's answer: 200 when applied, 202 when a protected branch made it a merge request.
    static func outcome(_ out: CommitOutcome) -> Response {
        response(out, status: out.mergeRequest == nil ? .ok : .accepted)
    }

    /// Reads and decodes a JSON body, capped at `limit` bytes; any failure is a clear 4xx.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        try decode(T.self, data: try await collect(request, limit: limit), request: request)
    }

    /// As `decode`, for an optional body: none at all is nil; one that is there must be valid.
    static func decodeIfPresent<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T? {
        let data = try await collect(request, limit: limit)
        return data.isEmpty ? nil : try decode(T.self, data: data, request: request)
    }

    private static func collect(_ request: Request, limit: Int) async throws -> Data {
        var request = request
        do {
            return Data(try await request.collectBody(upTo: limit).readableBytesView)
        } catch {
            throw CairnError(.payloadTooLarge, "the request body exceeds \(limit) bytes", details: ["limit": String(limit)])
        }
    }

    private static func decode<T: Decodable>(_ type: T.Type, data: Data, request: Request) throws -> T {
        guard let value = JSONValue.parse([UInt8](data)) else {
            throw CairnError(.invalidArgument, "the request body is not valid JSON")
        }
        let shape = RouteTable.shared.body(method: request.method.rawValue, path: request.uri.path)
        if let field = shape?.unknownField(in: value) {
            throw CairnError(.invalidArgument, "the request body has a field the API does not know: '\(field)'", details: ["field": field])
        }
        let decoded: T
        let unread: [String]
        do {
            (decoded, unread) = try JSONValueDecoder().decode(T.self, from: value)
        } catch let DecodingError.keyNotFound(key, _) {
            throw CairnError(.invalidArgument, "the request body lacks the field '\(key.stringValue)'", details: ["field": key.stringValue])
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw CairnError(.invalidArgument, "the field '\(field)' has the wrong type", details: ["field": field])
        } catch let DecodingError.dataCorrupted(context) {
            throw CairnError(.invalidArgument, "the request body is not valid: \(context.debugDescription)")
        } catch {
            throw CairnError(.invalidArgument, "the request body is not valid: \(error)")
        }
        // Every member the document allows must be one the code reads: a member it allows that
        // no type read would otherwise be dropped without a word (see `JSONValueDecoder`).
        if let first = unread.first {
            let field = first.split(separator: "/").map(String.init).joined(separator: ".")
            guard shape != nil else {
                throw CairnError(
                    .invalidArgument,
                    "the request body has a field the API does not know: '\(field)'",
                    details: ["field": field]
                )
            }
            throw CairnError(
                .contractMismatch,
                "the API document declares the field '\(field)' but this server does not read it; nothing was changed",
                details: ["field": field]
            )
        }
        return decoded
    }
}

/// Typed access to query parameters with clear errors.
struct Query {
    let request: Request

    func string(_ name: String) -> String? {
        request.uri.queryParameters.get(name)
    }

    func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw = string(name) else { return value }
        guard let n = Int(raw), range.contains(n) else {
            throw CairnError(
                .invalidArgument,
                "'\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound)",
                details: ["parameter": name]
            )
        }
        return n
    }

    /// An optional parameter that must be one of an enumeration's raw values.
    func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws -> T? where T.RawValue == String {
        guard let text = string(name) else { return nil }
        guard let value = T(rawValue: text) else {
            throw CairnError(
                .invalidArgument,
                "\(name) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))",
                details: ["parameter": name]
            )
        }
        return value
    }

    func bool(_ name: String) throws -> Bool {
        guard let raw = string(name) else { return false }
        switch raw {
        case "true", "1": return true
        case "false", "0": return false
        default: throw CairnError(.invalidArgument, "'\(name)' must be true or false", details: ["parameter": name])
        }
    }

    func time(_ name: String) throws -> Millis? {
        guard let raw = string(name) else { return nil }
        guard let ms = Clock.parseRFC3339(raw) else {
            throw CairnError(
                .invalidArgument,
                "'\(name)' must be an RFC 3339 time such as 2026-01-31T12:00:00Z",
                details: ["parameter": name]
            )
        }
        return ms
    }

    func required(_ name: String) throws -> String {
        guard let v = string(name), !v.isEmpty else {
            throw CairnError(.invalidArgument, "the query parameter '\(name)' is required", details: ["parameter": name])
        }
        return v
    }
}
