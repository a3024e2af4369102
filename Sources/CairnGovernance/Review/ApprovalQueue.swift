import CairnCore
import CairnStore
import Foundation

/// Which sensitive operations wait for an approver, as configuration in the organization's
/// `.cairn/access/approvals.json` (itself an access change, so turning the queue off can be
/// made to need approval too).
///
/// ```json
/// {"operations": ["branch.delete", "access", "share", "ontology"], "requiredApprovals": 1}
/// ```
public struct ApprovalSettings: Sendable, Codable, Equatable {
    /// The operations an organization may send through the approval queue.
    public enum Operation: String, Sendable, Codable, CaseIterable {
        /// Deleting a branch.
        case branchDelete = "branch.delete"
        /// Any change to roles, grants, members, keys, the identity provider or these settings.
        case access
        /// A grant on one project made by someone who may share it.
        case share
        /// A change under a project's `.cairn/ontology/`.
        case ontology
        /// A change to a project's workflow definitions (`.cairn/workflows/`).
        case workflow
        /// A workflow run's approval step: approved, the run continues. Asked for by workflows,
        /// not a setting: it cannot be listed in `operations`.
        case workflowStep = "workflow.step"
    }

    public var operations: [Operation]
    public var requiredApprovals: Int

    public init(operations: [Operation] = [], requiredApprovals: Int = 1) {
        self.operations = operations
        self.requiredApprovals = requiredApprovals
    }

    private enum CodingKeys: String, CodingKey { case operations, requiredApprovals }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        operations = try c.decodeIfPresent([Operation].self, forKey: .operations) ?? []
        if operations.contains(.workflowStep) {
            throw DecodingError.dataCorruptedError(
                forKey: .operations,
                in: c,
                debugDescription: "workflow.step is asked for by workflows' approval steps; it is not an operation to gate"
            )
        }
        requiredApprovals = try c.decodeIfPresent(Int.self, forKey: .requiredApprovals) ?? 1
        guard (1...20).contains(requiredApprovals) else {
            throw DecodingError.dataCorruptedError(forKey: .requiredApprovals, in: c, debugDescription: "requiredApprovals must be 1 to 20")
        }
    }

    /// Whether an operation waits for approval.
    public func gates(_ operation: Operation) -> Bool { operations.contains(operation) }
}

/// A sensitive operation recorded as pending, with the exact change and the state it was asked
/// against. Approved, it applies at that state or fails; it never applies to a state nobody saw.
public struct PendingApproval: Sendable, Codable, Equatable {
    /// Pending until someone other than its requester decides it.
    public enum State: String, Sendable, Codable, CaseIterable {
        case pending, applied, rejected, failed
    }

    /// One file change, stored exactly (content as base64, so any bytes survive).
    public struct Change: Sendable, Codable, Equatable {
        public let op: String
        public let path: String
        public let contentBase64: String?

        init(_ change: FileChange) {
            switch change {
            case .write(let path, let content): (op, self.path, contentBase64) = ("write", path, Data(content).base64EncodedString())
            case .delete(let path): (op, self.path, contentBase64) = ("delete", path, nil)
            case .edit(let path, _, _, _): (op, self.path, contentBase64) = ("edit", path, nil)
            }
        }

        var fileChange: FileChange? {
            switch op {
            case "write": contentBase64.flatMap { Data(base64Encoded: $0) }.map { .write(path: path, content: Array($0)) }
            case "delete": .delete(path)
            default: nil
            }
        }
    }

    /// Who decided a queued request, how, when and why.
    public struct Decision: Sendable, Codable, Equatable {
        public let id: String
        public let approver: String
        public let verdict: String
        public let rationale: String
        public let time: String
    }

    public let id: String
    public let operation: ApprovalSettings.Operation
    /// The Gateway action it stands for (`access.grant.put`, `branch.delete`, …).
    public let action: String
    public let summary: String
    /// The user project it changes, or nil for the organization's access configuration.
    public let project: String?
    public let branch: String
    /// For file changes: what to commit. For a branch deletion: nil.
    public let changes: [Change]?
    /// The commit the change was asked against (the branch head, or the access configuration's).
    public let base: String
    public let requester: String
    public let requesterKind: String
    public let onBehalfOf: String?
    public let reason: String?
    public let detail: [String: String]?
    public let created: String
    public let requiredApprovals: Int
    public var state: State
    public var decisions: [Decision]
    public var commit: String?
    public var error: String?
    public var updated: String
    /// When an undecided request lapses (a workflow's approval step), RFC 3339.
    public var expires: String?
}

/// Thrown by an operation that the organization's settings send to the approval queue: the
/// request is recorded and nothing was applied. Surfaces answer it as accepted (HTTP 202),
/// not as a failure.
public struct ApprovalPending: Error, Sendable {
    public let approval: PendingApproval
}
