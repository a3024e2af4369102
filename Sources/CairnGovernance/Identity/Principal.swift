import CairnStore

/// Who is acting, once authenticated: always inside exactly one organization.
public struct Principal: Sendable, Equatable {
    /// `user:ID`, `agent:ID` or `service:ID`.
    public let subject: String
    public let kind: ActorKind
    /// `group:NAME` for each group the identity provider vouches for.
    public let groups: [String]
    /// How it proved who it is: `key:ID` or `oidc`; never the secret.
    public let credential: String
    /// The API key it presented, whose scope limits what it may do.
    public let key: APIKeyRecord?
    /// The person behind an agent or service key: the agent never exceeds them.
    public let onBehalfOf: String?

    public init(
        subject: String,
        kind: ActorKind,
        groups: [String] = [],
        credential: String,
        key: APIKeyRecord? = nil,
        onBehalfOf: String? = nil
    ) {
        self.subject = subject
        self.kind = kind
        self.groups = groups
        self.credential = credential
        self.key = key
        self.onBehalfOf = onBehalfOf
    }

    /// The credential of the command line working on the data folder directly. No network
    /// surface can produce it: keys authenticate as `key:ID`, ID tokens as `oidc`.
    public static let localCredential = "local"

    /// The offline operator: whoever holds the data folder (the `cairn admin` commands).
    public static let localOperator = Principal(subject: "service:local-operator", kind: .service, credential: localCredential)

    /// The server itself ending a run whose session is gone (its transport closed, its server
    /// stopped or died): an action of the deployment, not of the agent, whose key may be the
    /// very reason the session ended. Audited under this name.
    public static let runRecovery = Principal(subject: "service:run-recovery", kind: .service, credential: localCredential)

    /// The workflow engine acting for the deployment: reading definitions to schedule them,
    /// and carrying out a workflow's failure policy (discarding its failed run's own branch).
    /// Audited under this name; a workflow's own calls act as the workflow, never as this.
    public static let workflowEngine = Principal(subject: "service:workflow-engine", kind: .service, credential: localCredential)

    /// A person at the command line on the server's machine, under the name they give: holding
    /// the data folder, they may do anything, and every change is still committed and audited
    /// under that name.
    public static func local(_ name: String) -> Principal {
        Principal(subject: name, kind: .user, credential: localCredential)
    }

    /// What per-credential limits count against: the key, or for a token from an identity
    /// provider (all share the credential `oidc`) the person it names.
    var limitKey: String { credential == "oidc" ? subject : credential }

    /// Credentials of workflows: `workflow:PROJECT/NAME`.
    public static let workflowCredentialPrefix = "workflow:"

    /// A workflow acting through its run (its key is its definition's scope, never stored).
    public var isWorkflow: Bool { credential.hasPrefix(Self.workflowCredentialPrefix) && kind == .service }

    public var isLocal: Bool { credential == Self.localCredential && key == nil }
}
