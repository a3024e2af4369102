import HTTPTypes
import Hummingbird

/// CORS for the origins the configuration lists, and none other (the default list is empty).
/// Hummingbird's `CORSMiddleware` does the protocol (preflight, the response headers); this
/// decides which requests it sees, since its own allow-list takes its origins only as literals.
struct CORSAllowListMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: Set<String>
    let cors = CORSMiddleware<Context>(
        allowOrigin: .originBased,
        allowHeaders: [
            .accept, .authorization, .contentType, .origin, HTTPField.Name("X-Cairn-Reason")!, HTTPField.Name("X-Request-Id")!,
            HTTPField.Name("Mcp-Session-Id")!,
        ],
        allowMethods: [.get, .post, .put, .patch, .delete, .head, .options],
        exposedHeaders: ["X-Request-Id", "Retry-After", "Allow", "Mcp-Session-Id"],
        maxAge: .seconds(600)
    )

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains(origin) else {
            return try await next(request, context)
        }
        return try await cors.handle(request, context: context, next: next)
    }
}
