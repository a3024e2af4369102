import CairnCore
import CairnGovernance
import CairnStore
import Crypto
import Foundation
import Synchronization

/// Agent steps: the server launches an agent program the operator configured (any MCP client),
/// giving it the step's prompt and a token that opens the run's own MCP session and nothing
/// else. The token lives in this process's memory only (as a SHA-256), and is gone when the step
/// ends: the agent works through the eight tools, as the workflow, bounded by the enabler, every
/// call recorded in the run; it never holds an API key.
extension Workflows {
    /// A live agent step's ticket: the session it opens.
    struct Ticket: Sendable {
        let organization: OrganizationRecord
        let session: RunSession
    }

    /// Where a run's token is honoured: the MCP endpoint (`http://127.0.0.1:PORT`), set by the
    /// server once it listens. Without one (the command line), agent steps fail, saying why.
    public func setAgentEndpoint(_ url: String) { agentEndpoint.withLock { $0 = url } }

    /// The session a run token opens, if it is live; nil otherwise (revoked, ended, or never
    /// issued: each answers the same).
    public func session(forRunToken token: String) -> (RunSession, OrganizationRecord)? {
        guard token.hasPrefix(Self.runTokenPrefix) else { return nil }
        let hash = Self.hash(token)
        return tickets.withLock { $0[hash] }.map { ($0.session, $0.organization) }
    }

    static let runTokenPrefix = "cairn_run_"

    static func hash(_ token: String) -> String {
        Hex.encode(Array(SHA256.hash(data: Array(token.utf8))))
    }

    /// Runs one agent step: the host's program with `CAIRN_MCP_URL`, `CAIRN_TOKEN`,
    /// `CAIRN_PROMPT`, `CAIRN_RUN` and `CAIRN_PROJECT`; the step ends when the program does (0:
    /// succeeded), or at its timeout (the program is stopped). Its calls are the run's.
    func runAgent(
        _ org: OrganizationRecord,
        _ step: WorkflowDefinition.Step,
        prompt: String,
        session: RunSession,
        project: String,
        result start: WorkflowRun.Step
    ) async -> (WorkflowRun.Step, JSONValue?) {
        var result = start
        result.attempts = 1
        func fail(_ why: String) -> (WorkflowRun.Step, JSONValue?) {
            result.outcome = .failed
            result.error = why
            return (result, nil)
        }
        guard let name = step.host, let command = agentHosts[name], let executable = command.first else {
            return fail(
                "no agent host '\(step.host ?? "")' in this server's configuration (agentHosts: \(agentHosts.keys.sorted().joined(separator: ", ")))"
            )
        }
        guard let endpoint = agentEndpoint.withLock({ $0 }) else {
            return fail("agent steps run in `cairn serve`, whose MCP endpoint the agent connects to; this process has none")
        }
        let token = Self.runTokenPrefix + Hex.random(bytes: 32)
        let hash = Self.hash(token)
        tickets.withLock { $0[hash] = Ticket(organization: org, session: session) }
        defer { _ = tickets.withLock { $0.removeValue(forKey: hash) } }
        let before = await session.run.calls.count

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.dropFirst())
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CAIRN_") || $0.key.hasPrefix("CAIRN_AGENT_") }
        environment["CAIRN_MCP_URL"] = "\(endpoint)/v1/mcp?project=\(project)&org=\(org.name)"
        environment["CAIRN_TOKEN"] = token
        environment["CAIRN_PROMPT"] = prompt
        environment["CAIRN_RUN"] = session.runID
        environment["CAIRN_PROJECT"] = project
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        let collected = Mutex<[UInt8]>([])
        output.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            collected.withLock { if $0.count < 65536 { $0 += chunk.prefix(65536 - $0.count) } }
        }
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { p in
            exited.continuation.yield(p.terminationStatus)
            exited.continuation.finish()
        }
        do {
            try process.run()
        } catch {
            output.fileHandleForReading.readabilityHandler = nil
            return fail("agent host '\(name)' could not be started: \(error)")
        }
        let status: Int32? = await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await code in exited.stream { return code }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(step.timeoutSeconds))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if status == nil, process.isRunning {
            process.terminate()
            for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        output.fileHandleForReading.readabilityHandler = nil
        let text = String(decoding: collected.withLock { $0 }, as: UTF8.self)
        let calls = await session.run.calls
        result.calls = calls.dropFirst(before).map(\.seq)
        result.commits = calls.dropFirst(before).flatMap(\.commits)
        let value: JSONValue = .object([
            "exitCode": status.map { .int(Int64($0)) } ?? .null,
            "output": .string(text),
            "calls": .int(Int64(result.calls.count)),
        ])
        guard let status else { return fail("the agent did not end within \(step.timeoutSeconds) s; it was stopped") }
        guard status == 0 else {
            result.outcome = .failed
            result.error = "the agent exited with status \(status): \(text.suffix(500))"
            return (result, value)
        }
        result.outcome = .succeeded
        return (result, value)
    }
}
