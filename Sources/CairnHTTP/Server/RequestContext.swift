import CairnCore
import CairnGovernance
import Hummingbird
import NIOCore
import Synchronization

/// The context of one request: Hummingbird's core storage, the peer's address (the client
/// address for pre-authentication limits and the request log) and what the request log line
/// needs to learn from the handler (who it authenticated as).
public struct CairnRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Shared with the middleware that writes the request's log line: the handler fills it in.
    let record = RequestRecord()
    /// Who the request authenticated as: set once, by `Authentication`, for every route of an
    /// organization, before the route runs.
    var authenticated: Caller?

    /// The request's caller. Every route under `/v1/orgs/:org` has one (the middleware refused
    /// the request otherwise); a route outside it that asks fails closed, as unauthenticated.
    var caller: Caller {
        get throws {
            guard let authenticated else { throw CairnError(.unauthenticated, "authentication required") }
            return authenticated
        }
    }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// What a handler tells the request log about its request.
final class RequestRecord: Sendable {
    private let state = Mutex<String?>(nil)

    var principal: String? {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
