/// The one error model every layer and surface shares (DESIGN.md §8).
///
/// A stable machine `code` for scripts, a `message` a person can act on, and `details`
/// (the offending path, the conflicting commit, …). Surfaces map codes to HTTP status and
/// MCP errors in one place; nothing else decides how an error looks.
public struct CairnError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: Code
    public let message: String
    public let details: [String: String]
    /// For `validation_failed`: every rule the change breaks, so one answer lists them all.
    public let violations: [Violation]

    public init(_ code: Code, _ message: String, details: [String: String] = [:], violations: [Violation] = []) {
        self.code = code
        self.message = message
        self.details = details
        self.violations = violations
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Whether the message is for the operator (the store's own words, SQL text, the database's
    /// address) rather than for the client that made the request.
    public var isOperatorDetail: Bool {
        switch code {
        case .storage, .storeUnavailable, .schemaOutdated, .corrupt: true
        default: false
        }
    }

    /// What a remote client is shown (DESIGN.md §8): the same code, with a fixed message where
    /// the real one is for the operator, whose log gets the full error.
    public var clientFacing: CairnError {
        switch code {
        case .storage:
            CairnError(.storage, "the server could not complete the request because of a storage error; its log has the details")
        case .storeUnavailable:
            CairnError(.storeUnavailable, "the store is unavailable right now; try again shortly (the server's log says why)")
        case .schemaOutdated:
            CairnError(.schemaOutdated, "the store's schema is older than this server needs; an operator must run `cairn migrate`")
        case .corrupt:
            CairnError(
                .corrupt,
                "the store holds damaged data for this request; an operator should run `cairn verify`",
                details: details.filter { $0.key == "object" || $0.key == "path" }
            )
        default: self
        }
    }

    /// The one wire shape of an error, shared by the CLI's `--json` and the HTTP API:
    /// `{"error":{"code","message","details"}}`.
    public var envelope: Envelope {
        Envelope(error: .init(code: code.rawValue, message: message, details: details, violations: violations.isEmpty ? nil : violations))
    }

    /// The error as every surface answers it: `{"error": {code, message, details, violations}}`.
    public struct Envelope: Encodable, Sendable {
        /// The error's fields inside the envelope.
        public struct Inner: Encodable, Sendable {
            public let code: String
            public let message: String
            public let details: [String: String]
            public let violations: [Violation]?
        }
        public let error: Inner
    }

    /// Stable machine codes. New cases may be added; existing raw values never change.
    public enum Code: String, Sendable, Codable, CaseIterable {
        case invalidPath = "invalid_path"
        case invalidArgument = "invalid_argument"
        case invalidRegex = "invalid_regex"
        case invalidGlob = "invalid_glob"
        case invalidRef = "invalid_ref"
        case notFound = "not_found"
        case projectNotFound = "project_not_found"
        case projectExists = "project_exists"
        case branchExists = "branch_exists"
        case unknownRef = "unknown_ref"
        case ambiguousRef = "ambiguous_ref"
        case beforeFirstCommit = "before_first_commit"
        case editNoMatch = "edit_no_match"
        case ambiguousEdit = "ambiguous_edit"
        case conflict = "conflict"
        case notJSON = "not_json"
        case limitExceeded = "limit_exceeded"
        case corrupt = "corrupt"
        case storage = "storage_error"
        case organizationExists = "organization_exists"
        case unauthenticated = "unauthenticated"
        case permissionDenied = "permission_denied"
        case rateLimited = "rate_limited"
        case payloadTooLarge = "payload_too_large"
        case timeout = "timeout"
        case methodNotAllowed = "method_not_allowed"
        /// The branch is archived: read-only.
        case branchArchived = "branch_archived"
        /// The branch is protected: this change must go through a merge request (or is refused there).
        case branchProtected = "branch_protected"
        /// The merge request lacks the approvals its target needs, at its current source head.
        case approvalRequired = "approval_required"
        /// A principal may not review or approve its own change.
        case selfApproval = "self_approval"
        /// The reviewed state moved before an approved request could be applied.
        case stale = "stale"
        /// The change breaks the project's ontology; `violations` lists every broken rule.
        case validationFailed = "validation_failed"
        /// The ontology itself is not well formed (unknown types, dangling references, cycles).
        case invalidOntology = "invalid_ontology"
        /// Well-formed input the computation cannot answer (no route between the points).
        case unprocessable = "unprocessable"
        /// The database behind the store cannot be reached; the request changed nothing.
        case storeUnavailable = "store_unavailable"
        /// The database holds no Cairn store, or an older schema: run `cairn migrate`.
        case schemaOutdated = "schema_outdated"
        /// A copy's destination already holds data; Cairn never merges two stores by copying.
        case storeNotEmpty = "store_not_empty"
        /// The API's document declares a field this server's code does not read: a defect of the
        /// server, reported instead of silently dropping the field; the request changed nothing.
        case contractMismatch = "contract_mismatch"
        /// A workflow definition is not one the engine can run; `violations` lists every problem.
        case invalidWorkflow = "invalid_workflow"
    }
}

/// One broken rule of the ontology: which, where (file and JSON pointer), and what to do.
public struct Violation: Sendable, Codable, Equatable, Hashable {
    public let constraint: String
    public let path: String
    public let pointer: String
    public let message: String

    public init(constraint: String, path: String, pointer: String, message: String) {
        self.constraint = constraint
        self.path = path
        self.pointer = pointer
        self.message = message
    }
}
