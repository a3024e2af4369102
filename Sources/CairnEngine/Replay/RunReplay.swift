import CairnCore
import CairnGovernance
import CairnStore
import Foundation

/// Replays a finished run: its recorded calls, in order, as its agent stands now (its key's
/// current role and scope), on a scratch branch forked from the run's base; call by call, whether
/// the answer is identical to the recorded one, and which calls would now be refused.
public enum RunReplay {
    /// One recorded call executed again: what it answered then and now.
    public struct Step: Sendable, Codable, Equatable {
        public let seq: Int
        public let tool: String
        public let recordedDecision: String
        public let decisionNow: String
        public let identical: Bool
        public let note: String?
    }

    /// A replay's outcome: every step compared, and whether the run reproduces.
    public struct Report: Sendable, Codable, Equatable {
        public let run: String
        public let base: String
        public let steps: [Step]
        public let identical: Bool
        /// The calls allowed when recorded that would now be refused.
        public let wouldNowBeDenied: [Int]
    }

    /// Executes every recorded call again, in order, as the agent stands now, on a scratch branch
    /// forked from the run's base (so its writes touch nothing live), and reports which answers
    /// are identical and which calls would now be refused.
    public static func replay(engine: Engine, caller: Caller, project: String, id: String) async throws -> Report {
        let gateway = engine.gateway
        let run = try await gateway.agentRun(caller, project: project, id: id)
        guard run.status != .running else { throw CairnError(.conflict, "run \(id) is still running: replay a finished run") }
        guard let agent = try await gateway.agentCaller(for: run, organization: caller.organization) else {
            // The agent's key is gone: every call it made would now be refused.
            let steps = run.calls.map {
                Step(
                    seq: $0.seq,
                    tool: $0.tool,
                    recordedDecision: $0.decision,
                    decisionNow: "denied",
                    identical: false,
                    note: "the agent's key is revoked, expired or gone"
                )
            }
            return Report(
                run: id,
                base: run.base,
                steps: steps,
                identical: false,
                wouldNowBeDenied: run.calls.filter { $0.decision == "allowed" }.map(\.seq)
            )
        }
        var scratchCaller = caller
        scratchCaller.reason = "replay of agent run \(id)"
        let scratch = "replays/\(id)-\(UUID().uuidString.prefix(6).lowercased())"
        _ = try await gateway.history.createBranch(scratchCaller, project: project, branch: scratch, from: run.base)
        var replayed = run
        replayed.status = .running
        replayed.calls = []
        let session = RunSession(engine: engine, caller: agent, run: AgentRun(copying: replayed, branch: scratch))
        var steps: [Step] = []
        for call in run.calls {
            let arguments: [String: JSONValue] = if case .object(let o) = call.arguments { o } else { [:] }
            do {
                let outcome = try await session.perform(call.tool, arguments, as: agent, bounds: try await session.bounds())
                steps.append(
                    Step(
                        seq: call.seq,
                        tool: call.tool,
                        recordedDecision: call.decision,
                        decisionNow: "allowed",
                        identical: outcome.digest == call.result,
                        note: nil
                    )
                )
            } catch let e as CairnError {
                let denied = e.code == .permissionDenied || e.code == .unauthenticated
                steps.append(
                    Step(
                        seq: call.seq,
                        tool: call.tool,
                        recordedDecision: call.decision,
                        decisionNow: denied ? "denied" : "allowed",
                        identical: call.error?.hasPrefix(e.code.rawValue) == true,
                        note: "\(e.code.rawValue): \(e.message)"
                    )
                )
            }
        }
        // The scratch branch is the replay's own: it goes whatever happened.
        do {
            try await gateway.history.deleteBranch(scratchCaller, project: project, branch: scratch)
        } catch {
            engine.logger.warning(
                "a replay's scratch branch could not be deleted",
                metadata: ["branch": "\(scratch)", "error": "\(error)"]
            )
        }
        return Report(
            run: id,
            base: run.base,
            steps: steps,
            identical: steps.allSatisfy(\.identical),
            wouldNowBeDenied: steps.filter { $0.recordedDecision == "allowed" && $0.decisionNow == "denied" }.map(\.seq)
        )
    }
}
