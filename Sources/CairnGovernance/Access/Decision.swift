import CairnCore

/// What an action touches. Narrower fields are nil when the action is wider (listing a
/// project's branches names no path).
public struct AccessTarget: Sendable, Equatable, Codable {
    public var project: String?
    public var branch: String?
    public var path: String?

    public init(project: String? = nil, branch: String? = nil, path: String? = nil) {
        self.project = project
        self.branch = branch
        self.path = path
    }

    public static let organization = AccessTarget()

    public var description: String {
        guard let project else { return "the organization" }
        var s = "project '\(project)'"
        if let branch { s += ", branch '\(branch)'" }
        if let path { s += ", path '\(path)'" }
        return s
    }
}

/// The answer to "may this principal do this here", with the rule that decided and the
/// access-configuration commit it was evaluated at, so every decision can be explained later.
public struct Decision: Sendable, Equatable, Codable {
    public let allowed: Bool
    public let subject: String
    public let authority: Authority
    public let target: AccessTarget
    /// `grant:ID`, `org-ceiling`, `key-scope:ID`, `on-behalf-of:SUBJECT`, `default-deny` or `local-operator`.
    public let rule: String
    public let reason: String
    public let configCommit: ObjectID

    public var error: CairnError {
        CairnError(
            .permissionDenied,
            "\(subject) lacks the '\(authority.rawValue)' authority on \(target.description): \(reason)",
            details: ["authority": authority.rawValue, "target": target.description, "rule": rule]
        )
    }
}
