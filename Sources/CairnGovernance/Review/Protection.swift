import CairnCore
import CairnStore
import Foundation

/// Branch protection: configuration as data, in the project's `.cairn/protection.json` on
/// `main`, changed only with `configure`. With no file, `main` is protected with the defaults.
///
/// ```json
/// {"branches": {"main": {"agentWrites": "merge_request", "userWrites": "direct", "requiredApprovals": 1}}}
/// ```
/// A key is a branch name or a glob over names (`release/*`).
public struct ProtectionConfig: Sendable, Codable, Equatable {
    public static let path = ".cairn/protection.json"

    /// What a direct write to a protected branch does: lands, becomes a merge request, or is
    /// refused.
    public enum WritePolicy: String, Sendable, Codable {
        /// Applied to the branch as asked.
        case direct
        /// Committed to a proposal branch and opened as a merge request into the branch.
        case mergeRequest = "merge_request"
        /// Refused.
        case reject
    }

    /// Protection for the branches a pattern names: how writes land and how many approvals a merge
    /// needs.
    public struct Rule: Sendable, Codable, Equatable {
        /// What a write by an agent becomes: never `direct` on a protected branch.
        public var agentWrites: WritePolicy
        /// What a write by a person (or a service, or the local operator) becomes.
        public var userWrites: WritePolicy
        /// Approvals a merge request into the branch needs, from principals other than the
        /// authors of its source changes, at the source's current head.
        public var requiredApprovals: Int

        public init(agentWrites: WritePolicy = .mergeRequest, userWrites: WritePolicy = .direct, requiredApprovals: Int = 1) {
            self.agentWrites = agentWrites
            self.userWrites = userWrites
            self.requiredApprovals = requiredApprovals
        }

        private enum CodingKeys: String, CodingKey { case agentWrites, userWrites, requiredApprovals }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            agentWrites = try c.decodeIfPresent(WritePolicy.self, forKey: .agentWrites) ?? .mergeRequest
            userWrites = try c.decodeIfPresent(WritePolicy.self, forKey: .userWrites) ?? .direct
            requiredApprovals = try c.decodeIfPresent(Int.self, forKey: .requiredApprovals) ?? 1
        }
    }

    public var branches: [String: Rule]

    public static let defaults = ProtectionConfig(branches: ["main": Rule()])

    public init(branches: [String: Rule]) { self.branches = branches }

    /// The rule for a branch: an exact name wins over a glob; of several globs, the longest.
    public func rule(for branch: String) -> Rule? {
        if let exact = branches[branch] { return exact }
        return branches.filter { Glob.hasWildcards($0.key) && ((try? Glob($0.key))?.matches(branch) ?? false) }
            .max { $0.key.count < $1.key.count }?.value
    }

    /// What a write by `kind` to `branch` becomes.
    public func writePolicy(for branch: String, kind: ActorKind) -> WritePolicy {
        guard let rule = rule(for: branch) else { return .direct }
        return kind == .agent ? rule.agentWrites : rule.userWrites
    }

    /// Parses and checks a protection file, so a bad one is refused when written, not when used.
    public static func parse(_ bytes: [UInt8]) throws(CairnError) -> ProtectionConfig {
        let config: ProtectionConfig
        do {
            config = try JSONDecoder().decode(ProtectionConfig.self, from: Data(bytes))
        } catch {
            throw CairnError(
                .invalidArgument,
                "\(path) must be {\"branches\": {NAME: {\"agentWrites\": \"merge_request\"|\"reject\", \"userWrites\": "
                    + "\"direct\"|\"merge_request\"|\"reject\", \"requiredApprovals\": N}}}",
                details: ["path": path]
            )
        }
        for (name, rule) in config.branches {
            if Glob.hasWildcards(name) {
                do { _ = try Glob(name) } catch {
                    throw CairnError(.invalidGlob, "'\(name)' in \(path) is not a valid glob", details: ["path": path])
                }
            } else {
                try Project.validateBranchName(name)
            }
            if rule.agentWrites == .direct {
                throw CairnError(
                    .invalidArgument,
                    "an agent's write to protected '\(name)' is never applied directly: use merge_request or reject",
                    details: ["path": path, "branch": name]
                )
            }
            guard (1...20).contains(rule.requiredApprovals) else {
                throw CairnError(
                    .invalidArgument,
                    "requiredApprovals for '\(name)' must be 1 to 20",
                    details: ["path": path, "branch": name]
                )
            }
        }
        return config
    }
}

extension Gateway {
    /// The protection of a project as configured on its `main` now.
    package func protection(_ project: Project) async throws -> ProtectionConfig {
        do {
            let (_, _, bytes) = try await project.readBytes(ProtectionConfig.path, at: "main")
            return try ProtectionConfig.parse(bytes)
        } catch let e as CairnError where e.code == .notFound {
            return .defaults
        }
    }
}
