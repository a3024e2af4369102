import ArgumentParser
import CairnCore
import CairnEngine
import CairnGovernance
import CairnHTTP
import CairnMCP
import Foundation
import MCP
import UnixSignals

/// `cairn mcp`: the agent surface over stdio. An MCP client (an agent's host) starts it as a
/// subprocess; the session is a run of the agent the token names, on its own branch.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the eight agent tools over MCP on stdio, as the agent a token names; the session is one run.",
        discussion: """
            The token is an API key of the agent (from CAIRN_TOKEN, or --token). The session works on a branch of its own \
            forked from --branch (default main); when the client closes it, its changes merge into that branch, or open a \
            merge request if it is protected. Nothing but the protocol is written to stdout.
              CAIRN_TOKEN=cairn_... cairn mcp --project city --on-behalf-of user:ana
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @Option(name: .long, help: "The agent's API key (default: $CAIRN_TOKEN).") var token: String?
    @Option(name: .long, help: "The branch the run forks from and merges into.") var branch = "main"
    @Option(name: .long, help: ArgumentHelp("The person or workflow that launched the agent.", valueName: "subject")) var onBehalfOf:
        String?
    @Option(
        name: .long,
        help: ArgumentHelp("Start a child run of this running run (on its branch, within its authority).", valueName: "run")
    ) var parent: String?

    func run() async throws {
        try await runReporting(global) {
            guard let token = token ?? ProcessInfo.processInfo.environment["CAIRN_TOKEN"], !token.isEmpty else {
                throw CairnError(.unauthenticated, "cairn mcp needs the agent's API key: --token or CAIRN_TOKEN")
            }
            let repo = try await global.openRepository()
            let org = try await global.organization(repo, create: false)
            let gateway = Gateway(repository: repo)
            let caller = try await gateway.authenticate(organization: org.name, authorization: "Bearer \(token)")
            // The same run settings as the server's (CAIRN_CONFIG, then the environment).
            let env = ProcessInfo.processInfo.environment
            var settings = try env["CAIRN_CONFIG"].map { try ServerConfig.load(file: $0) } ?? ServerConfig()
            try settings.applyEnvironment(env)
            let engine = Engine(gateway: gateway, recovery: settings.runRecovery, leaseSeconds: settings.runLeaseSeconds)
            let session = try await engine.start(
                caller,
                project: try project.name(),
                target: branch,
                onBehalfOf: onBehalfOf ?? caller.principal.onBehalfOf,
                parent: parent
            )
            // The run's lease is renewed for as long as this process serves it: killed, it
            // lapses and a server sharing the store ends the run by the recovery policy.
            let keeper = Task { await engine.keepLeases() }
            defer { keeper.cancel() }
            let server = await MCPSession.server(for: session)
            try await server.start(transport: StdioTransport())
            // A client that finds the server slow to exit after closing stdin sends SIGTERM (the
            // MCP spec's shutdown): that too ends the session normally, its changes merged or up
            // for review, rather than leaving the run to be recovered as interrupted. Trapped
            // from here on, a second signal changes nothing; only SIGKILL cuts the end short.
            let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
            let stopOnSignal = Task {
                for await _ in signals {
                    await server.stop()
                    return
                }
            }
            defer { stopOnSignal.cancel() }
            // The client closing stdin is the session's normal end.
            await server.waitUntilCompleted()
            let run = await engine.end(session)
            FileHandle.standardError.write(Data("run \(run.id): \(run.status.rawValue)\(run.message.map { " (\($0))" } ?? "")\n".utf8))
        }
    }
}
