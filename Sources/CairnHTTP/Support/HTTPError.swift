import CairnCore
import CairnGovernance
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The one place a `CairnError` becomes an HTTP status (DESIGN.md §8).
enum HTTPErrorMapping {
    static func status(_ code: CairnError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidPath, .invalidArgument, .invalidRegex, .invalidGlob, .invalidRef, .notJSON, .ambiguousRef: .badRequest
        case .editNoMatch, .ambiguousEdit, .limitExceeded, .validationFailed, .invalidOntology, .invalidWorkflow, .unprocessable:
            .unprocessableContent
        case .notFound, .projectNotFound, .unknownRef, .beforeFirstCommit: .notFound
        case .projectExists, .branchExists, .organizationExists, .conflict, .branchArchived, .branchProtected, .approvalRequired, .stale:
            .conflict
        case .unauthenticated: .unauthorized
        case .permissionDenied, .selfApproval: .forbidden
        case .rateLimited: .tooManyRequests
        case .payloadTooLarge: .contentTooLarge
        case .timeout, .storeUnavailable: .serviceUnavailable
        case .methodNotAllowed: .methodNotAllowed
        case .corrupt, .storage, .schemaOutdated, .contractMismatch: .internalServerError
        case .storeNotEmpty: .conflict
        }
    }

    static func response(_ error: CairnError) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if error.code == .unauthenticated { headers[.wwwAuthenticate] = "Bearer" }
        if error.code == .rateLimited, let after = error.details["retryAfterSeconds"] { headers[.retryAfter] = after }
        let body = JSON.encode(error.envelope)
        return Response(status: status(error.code), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

struct PendingAnswer: Encodable {
    let status: String
    let approval: PendingApproval
}

/// Turns every error a handler throws into the structured error body; nothing escapes as a bare 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as CairnError {
            if error.isOperatorDetail {
                context.logger.error(
                    "request failed in the store",
                    metadata: ["code": "\(error.code.rawValue)", "error": "\(error.message)"]
                )
            }
            return HTTPErrorMapping.response(error.clientFacing)
        } catch let pending as ApprovalPending {
            // Not a failure: the operation is recorded and waits for an approver.
            return JSON.response(PendingAnswer(status: "pending", approval: pending.approval), status: .accepted)
        } catch let error as HTTPError {
            let code: CairnError.Code =
                switch error.status {
                case .notFound: .notFound
                case .contentTooLarge: .payloadTooLarge
                case .unauthorized: .unauthenticated
                case .methodNotAllowed, .badRequest: .invalidArgument
                default: error.status.code >= 500 ? .storage : .invalidArgument
                }
            if error.status == .notFound, let allowed = RouteTable.shared.methods(for: request.uri.path) {
                var response = HTTPErrorMapping.response(
                    CairnError(
                        .methodNotAllowed,
                        "\(request.method) is not allowed here; use \(allowed.joined(separator: ", "))",
                        details: ["allow": allowed.joined(separator: ", ")]
                    )
                )
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            }
            let message =
                error.status == .notFound
                ? "no such endpoint: \(request.method) \(request.uri.path)" : (error.body ?? error.status.reasonPhrase)
            var response = HTTPErrorMapping.response(CairnError(code, message))
            if error.status == .methodNotAllowed { response.status = .methodNotAllowed }
            return response
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(error)"])
            return HTTPErrorMapping.response(CairnError(.storage, "the server could not complete the request"))
        }
    }
}
