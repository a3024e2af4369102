import ArgumentParser
import CairnCore
import CairnEngine
import CairnGovernance
import CairnHTTP
import CairnPostgres
import CairnSQLite
import CairnStore
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the governed HTTP server (loopback only unless told otherwise).",
        discussion: """
            Settings come from a JSON file (--config or $CAIRN_CONFIG), then the environment \
            (CAIRN_HOST, CAIRN_PORT, CAIRN_DATA, CAIRN_ORG, CAIRN_MAX_BODY_BYTES, CAIRN_RATE_LIMIT, \
            CAIRN_REQUEST_TIMEOUT, CAIRN_DATABASE_URL, CAIRN_DATABASE_PASSWORD_FILE), then these flags. \
            On first start it creates the organization and prints how to get the first admin \
            credential. With a PostgreSQL store, several servers can share one database; each \
            applies any missing schema migration at start.
            """
    )

    @Option(name: .long, help: ArgumentHelp("A JSON settings file.", valueName: "file")) var config: String?
    @Option(name: .long, help: "The data folder.") var data: String?
    @Option(name: .long, help: "The address to bind (default 127.0.0.1).") var host: String?
    @Option(name: .long, help: "The port (default 8270; 0 picks a free one).") var port: Int?
    @Option(name: .long, help: "The organization to create on first start (default 'default').") var org: String?
    @Option(name: .long, help: "Requests per second allowed per credential (0: no limit).") var rateLimit: Double?
    @Option(
        name: .long,
        help: ArgumentHelp("A PostgreSQL store shared by several servers (postgres://USER@HOST:PORT/DB).", valueName: "url")
    )
    var databaseURL: String?
    @Option(
        name: .customLong("tls-cert"),
        help: ArgumentHelp("Serve HTTPS with this PEM certificate chain (reloaded on SIGHUP).", valueName: "file")
    )
    var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The PEM private key of --tls-cert.", valueName: "file")) var tlsKey: String?

    func run() async throws {
        let console = Console(json: false)
        do {
            var settings = ServerConfig()
            let env = ProcessInfo.processInfo.environment
            if let file = config ?? env["CAIRN_CONFIG"] { settings = try ServerConfig.load(file: file) }
            try settings.applyEnvironment(env)
            if let data { settings.data = data }
            if let host { settings.host = host }
            if let port { settings.port = port }
            if let org { settings.organization = org }
            if let databaseURL { settings.databaseURL = databaseURL }
            if let tlsCertificate { settings.tlsCertificate = tlsCertificate }
            if let tlsKey { settings.tlsKey = tlsKey }
            if let rateLimit {
                settings.requestsPerSecond = rateLimit
                settings.burst = rateLimit * 2
            }
            try await serve(settings)
        } catch let error as CairnError {
            console.fail(error)
            throw ExitCode(1)
        }
    }

    private func serve(_ settings: ServerConfig) async throws {
        do {
            try FileManager.default.createDirectory(atPath: settings.data, withIntermediateDirectories: true)
        } catch {
            throw CairnError(.storage, "cannot create the data folder '\(settings.data)'", details: ["data": settings.data])
        }
        // JSON lines on standard error (CAIRN_LOG_FORMAT=text for the plain handler).
        if ProcessInfo.processInfo.environment["CAIRN_LOG_FORMAT"] != "text" {
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
                return handler
            }
        }
        var logger = Logger(label: "cairn")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let location = try StoreLocation.resolve(
            databaseURL: settings.databaseURL,
            passwordFile: settings.databasePasswordFile,
            dataFolder: settings.data
        )
        let storage = try await location.open(migrate: true, logger: logger)
        let repository = Repository(storage: storage, nodeCacheBytes: settings.nodeCacheBytes)
        let (org, created) = try await Tenancy.ensure(settings.organization, repository: repository)
        if created {
            let storeFlag = location.isPostgres ? "--database-url '\(location)'" : "--data \(settings.data)"
            Console.writeOut(
                """
                Created organization '\(org.name)' in \(location.isPostgres ? location.description : settings.data).
                Mint the first admin credential (shown once) with:
                  cairn admin token \(storeFlag) --org \(org.name)
                """
            )
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(CairnMetricsFactory(registry: registry))
        let gateway = Gateway(
            repository: repository,
            limits: GatewayLimits(
                requestsPerSecond: settings.requestsPerSecond,
                burst: settings.burst,
                maxPathBytes: settings.maxPathBytes,
                maxPatternBytes: settings.maxPatternBytes,
                jwksRefetchSeconds: settings.jwksRefetchSeconds,
                authFailuresPerSecond: settings.authFailuresPerSecond,
                authFailureBurst: settings.authFailureBurst,
                grepSecondsPerRequest: settings.grepSecondsPerRequest,
                grepSecondsPerSecond: settings.grepSecondsPerSecond,
                heavyJobsPerCredential: settings.heavyJobsPerCredential,
                heavyJobsPerServer: settings.heavyJobsPerServer
            ),
            logger: logger
        )
        var tls: TLSCertificates?
        var hangup: (any DispatchSourceSignal)?
        switch (settings.tlsCertificate, settings.tlsKey) {
        case (let cert?, let key?):
            tls = try TLSCertificates(certificatePath: cert, keyPath: key, logger: logger)
            hangup = tls?.reloadOnHangup()
        case (nil, nil): break
        default: throw CairnError(.invalidArgument, "TLS needs both a certificate (--tls-cert) and its key (--tls-key)")
        }
        let server = CairnServer(
            gateway: gateway,
            engine: Engine(gateway: gateway, recovery: settings.runRecovery, leaseSeconds: settings.runLeaseSeconds),
            config: settings,
            registry: registry,
            tls: tls
        )
        let host = settings.host
        let scheme = tls == nil ? "http" : "https"
        let app = try server.application(logger: logger) { port in
            Console.writeOut("cairn listening on \(scheme)://\(host):\(port)")
        }
        defer { hangup?.cancel() }
        // The store is listed first so it stops last, after the server has answered its last request.
        var services: [any Service] = []
        if let shared = storage as? PostgresStorage { services.append(shared) }
        services.append(FeedRelay(gateway: gateway))
        services.append(server.leaseKeeper)
        services.append(server.workflowScheduler)
        services.append(app)
        services.append(server.sessionCloser)
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        logger.info(
            "cairn started",
            metadata: ["version": "\(CairnVersion.current)", "store": "\(location.isPostgres ? "postgres" : "sqlite")"]
        )
        try await group.run()
        logger.info("cairn stopped")
    }
}

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Offline administration by whoever holds the data folder (audited as the local operator).",
        subcommands: [Token.self, OrgCreate.self, Approvals.self]
    )

    struct Approvals: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set which sensitive operations wait for an approver: branch.delete, access, share, ontology (none: an empty list)."
        )
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, parsing: .upToNextOption, help: "The gated operations.") var operations: [String] = []
        @Option(name: .long, help: "Approvals each needs (1 to 20).") var required = 1
        @Option(name: .long, help: "Who changes the setting.") var author: String?

        func run() async throws {
            try await runReporting(global) {
                var gated: [ApprovalSettings.Operation] = []
                for name in operations {
                    guard let op = ApprovalSettings.Operation(rawValue: name) else {
                        throw CairnError(.invalidArgument, "unknown operation '\(name)': use branch.delete, access, share or ontology")
                    }
                    gated.append(op)
                }
                let c = try await LocalAccess(global, project: nil, author: author, reason: "set approval settings")
                let settings = try await c.gateway.access.putApprovalSettings(
                    c.caller,
                    ApprovalSettings(operations: gated, requiredApprovals: required)
                )
                global.console.emit(settings) {
                    settings.operations.isEmpty
                        ? "no operation waits for approval"
                        : "waiting for \(settings.requiredApprovals) approval(s): "
                            + "\(settings.operations.map(\.rawValue).joined(separator: ", "))"
                }
            }
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint an admin API key for the organization; the key is printed once and only its hash is kept."
        )
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "Who the key acts as (default user:admin).") var subject = "user:admin"
        @Option(name: .long, help: "Expiry, RFC 3339 (default: none).") var expires: String?

        func run() async throws {
            try await runReporting(global) {
                let repo = try await global.openRepository()
                let (org, _) = try await Tenancy.ensure(global.organizationName, repository: repo)
                let gateway = Gateway(repository: repo)
                let caller = Caller(principal: .localOperator, organization: org, reason: "cairn admin token")
                if !(try await gateway.access.members(caller).contains { $0.subject == subject && $0.roles.contains("admin") }) {
                    _ = try await gateway.access.putMember(caller, subject: subject, role: "admin")
                }
                let minted = try await gateway.access.mintKey(
                    caller,
                    kind: .user,
                    subject: subject,
                    role: "admin",
                    expiresAt: expires,
                    description: "minted offline by cairn admin token"
                )
                global.console.emit(minted) {
                    """
                    \(minted.token)
                    (API key \(minted.key.id) for \(subject), role admin in organization '\(org.name)'; it is shown only now)
                    """
                }
            }
        }
    }

    struct OrgCreate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "org-create",
            abstract: "Create another organization (a separate tenant)."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Lowercase letters, digits, '-', '_' or '.'.") var name: String

        func run() async throws {
            try await runReporting(global) {
                let repo = try await global.openRepository()
                let (org, created) = try await Tenancy.ensure(name, repository: repo)
                if !created {
                    throw CairnError(.organizationExists, "an organization named '\(name)' already exists", details: ["organization": name])
                }
                global.console.emit(org) {
                    "created organization \(org.name); mint its first admin key with: cairn admin token --org \(org.name)"
                }
            }
        }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check or export an organization's audit log.",
        subcommands: [AuditVerify.self, AuditExport.self]
    )

    struct AuditVerify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify", abstract: "Check the hash chain; exit 2 if it is broken.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            var broken = false
            try await runReporting(global) {
                let repo = try await global.openRepository()
                let report = try await AuditLog.verify(repo.storage, organization: global.organization(repo))
                broken = !report.ok
                global.console.emit(report) { Self.describe(report) }
            }
            if broken { throw ExitCode(2) }
        }

        static func describe(_ r: AuditVerifyReport) -> String {
            (["audit log of \(r.organization): \(r.entries) entries, " + (r.ok ? "chain intact" : "\(r.problems.count) problem(s)")]
                + r.problems.map { "  \($0)" }).joined(separator: "\n")
        }
    }

    struct AuditExport: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Print the audit log as JSON Lines of CloudEvents."
        )
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(global) {
                let repo = try await global.openRepository()
                let org = try await global.organization(repo)
                var cursor: String?
                repeat {
                    let page = try await AuditLog.query(repo.storage, organization: org.id, AuditQuery(), limit: 1000, cursor: cursor)
                    var out = Data()
                    for item in page.entries {
                        out.append(contentsOf: AuditLog.cloudEvent(item))
                        out.append(0x0a)
                    }
                    FileHandle.standardOutput.write(out)
                    cursor = page.next
                } while cursor != nil
            }
        }
    }
}
