import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One log line per request (DESIGN.md §8): request id, principal, method, route, status,
/// duration and bytes; never a header value, a query string or a body, so no secret or token
/// can reach the log. The request id is the caller's `X-Request-Id` when it is a short printable
/// token, else a new one; either way it is echoed on the response.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext
    static let requestIDHeader = HTTPField.Name("X-Request-Id")!
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = Self.requestID(request.headers[Self.requestIDHeader])
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // The error middleware inside turns every error into a response; this is a last guard.
            log(request, context, id: id, status: 500, bytes: nil, since: start, level: .error)
            throw error
        }
        response.headers[Self.requestIDHeader] = id
        let status = Int(response.status.code)
        log(
            request,
            context,
            id: id,
            status: status,
            bytes: response.body.contentLength,
            since: start,
            level: status >= 500 ? .error : .info
        )
        return response
    }

    private func log(
        _ request: Request,
        _ context: Context,
        id: String,
        status: Int,
        bytes: Int?,
        since start: ContinuousClock.Instant,
        level: Logger.Level
    ) {
        let elapsed = ContinuousClock.now - start
        // Hundredths of a millisecond, formatted by hand: `String(format:)` goes through Foundation's
        // formatter on every request.
        let hundredths = elapsed.components.seconds * 100_000 + elapsed.components.attoseconds / 10_000_000_000_000
        let fraction = hundredths % 100
        let duration = "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
        var metadata: Logger.Metadata = [
            "request_id": "\(id)", "method": "\(request.method.rawValue)", "route": "\(context.endpointPath ?? "unmatched")",
            "status": "\(status)", "duration_ms": "\(duration)", "principal": "\(context.record.principal ?? "-")",
        ]
        if let bytes { metadata["bytes"] = "\(bytes)" }
        if let address = context.remoteAddress?.ipAddress { metadata["client"] = "\(address)" }
        logger.log(level: level, "request", metadata: metadata)
    }

    /// The caller's id if it is 1–64 characters of letters, digits, '-', '_', '.' or ':'.
    static func requestID(_ offered: String?) -> String {
        if let offered, (1...64).contains(offered.utf8.count),
            offered.utf8.allSatisfy({ c in
                (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95 || c == 46 || c == 58
            })
        {
            return offered
        }
        return Hex.random(bytes: 12)
    }
}
