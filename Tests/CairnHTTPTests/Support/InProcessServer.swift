import CairnCore
import CairnEngine
import CairnGovernance
import CairnHTTP
import CairnStore
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus

/// The HTTP surface in process: the server's own router, middlewares and routes on a fresh store
/// of the pass's backend (see `TestBackend`), driven by Hummingbird's router test client with
/// no socket and no child process. What a route answers is checked here; what only a real
/// process shows (signals, TLS, the command line) stays in CairnCLITests.
final class InProcessServer: @unchecked Sendable {
    let directory: URL
    let storage: any Storage
    let gateway: Gateway
    let server: CairnServer
    /// An admin key of organization `default`, minted the way `cairn admin token` mints it.
    let admin: String

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        storage = try await TestBackend.openStore(in: directory)
        let repository = Repository(storage: storage)
        gateway = Gateway(repository: repository, limits: GatewayLimits(requestsPerSecond: 0))
        var config = ServerConfig()
        config.requestsPerSecond = 0
        server = CairnServer(gateway: gateway, engine: Engine(gateway: gateway), config: config, registry: PrometheusCollectorRegistry())
        let (org, _) = try await Tenancy.ensure(config.organization, repository: repository)
        let local = Caller(principal: .localOperator, organization: org, reason: "test setup")
        _ = try await gateway.access.putMember(local, subject: "user:admin", role: "admin")
        admin = try await gateway.access.mintKey(local, kind: .user, subject: "user:admin", role: "admin", description: "test").token
    }

    deinit {
        TestBackend.close(storage)
        try? FileManager.default.removeItem(at: directory)
    }

    struct Answer {
        let status: Int
        let headers: HTTPFields
        let text: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    /// Runs `body` against the application; each call of `send` is one request. With
    /// `project`, the admin creates that project first, as a client would.
    func run(project: String? = nil, _ body: @Sendable (_ send: Sender) async throws -> Void) async throws {
        let app = try server.application(logger: Logger(label: "cairn.test"))
        let admin = admin
        try await app.test(.router) { client in
            let send = Sender(client: client)
            if let project {
                let made = try await send(.post, "/v1/orgs/default/projects", #"{"name":"\#(project)"}"#, token: admin)
                guard made.status == 201 || made.status == 200 else {
                    throw CairnError(.storage, "could not create \(project): \(made.text)")
                }
            }
            try await body(send)
        }
    }

    struct Sender: Sendable {
        let client: any TestClientProtocol

        @discardableResult
        func callAsFunction(
            _ method: HTTPRequest.Method,
            _ uri: String,
            _ body: String? = nil,
            token: String? = nil,
            headers extra: HTTPFields = [:]
        ) async throws -> Answer {
            var headers = extra
            if let token { headers[.authorization] = "Bearer \(token)" }
            if body != nil { headers[.contentType] = "application/json" }
            let response = try await client.execute(
                uri: uri,
                method: method,
                headers: headers,
                body: body.map { ByteBuffer(string: $0) }
            )
            return Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
        }
    }
}
