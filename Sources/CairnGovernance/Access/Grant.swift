import CairnCore
import CairnStore

/// What a grant applies to, from widest to narrowest.
public enum GrantTarget: Sendable, Equatable, Codable {
    case organization
    case project(String)
    case branch(project: String, branch: String)
    case path(project: String, glob: String)

    /// Narrower targets decide over wider ones (DESIGN.md §4: the org role is the ceiling).
    var level: Int {
        switch self {
        case .organization: 0
        case .project: 1
        case .branch: 2
        case .path: 3
        }
    }

    private enum CodingKeys: String, CodingKey { case kind, project, branch, glob }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "organization": self = .organization
        case "project": self = .project(try c.decode(String.self, forKey: .project))
        case "branch":
            self = .branch(project: try c.decode(String.self, forKey: .project), branch: try c.decode(String.self, forKey: .branch))
        case "path": self = .path(project: try c.decode(String.self, forKey: .project), glob: try c.decode(String.self, forKey: .glob))
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .kind,
                in: c,
                debugDescription: "unknown target kind '\(other)': use organization, project, branch or path"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .organization: try c.encode("organization", forKey: .kind)
        case .project(let p):
            try c.encode("project", forKey: .kind)
            try c.encode(p, forKey: .project)
        case .branch(let p, let b):
            try c.encode("branch", forKey: .kind)
            try c.encode(p, forKey: .project)
            try c.encode(b, forKey: .branch)
        case .path(let p, let g):
            try c.encode("path", forKey: .kind)
            try c.encode(p, forKey: .project)
            try c.encode(g, forKey: .glob)
        }
    }
}

/// Whether a grant gives its role or takes it away; a deny always wins over an allow.
public enum GrantEffect: String, Sendable, Codable {
    case allow, deny
}

/// (subject, role, target): the unit of access configuration, one file per grant.
///
/// A subject is `user:ID`, `group:NAME`, `agent:ID` or `service:ID`.
public struct Grant: Sendable, Codable, Equatable {
    public var id: String
    public var subject: String
    public var role: String
    public var target: GrantTarget
    public var effect: GrantEffect
    /// A shadow grant is evaluated beside the enforced rules but decides nothing: every decision
    /// where it would change the outcome is logged for the shadow report. Promoting it is an
    /// ordinary change that clears the flag.
    public var shadow: Bool?
    /// In shadow, the enforced grant this one would replace (absent: it would be added).
    public var replaces: String?

    public init(
        id: String,
        subject: String,
        role: String,
        target: GrantTarget,
        effect: GrantEffect = .allow,
        shadow: Bool? = nil,
        replaces: String? = nil
    ) {
        self.shadow = shadow
        self.replaces = replaces
        self.id = id
        self.subject = subject
        self.role = role
        self.target = target
        self.effect = effect
    }

    public var isShadow: Bool { shadow == true }

    /// Refuses a grant that names a malformed subject, role or target, before it reaches the access
    /// configuration.
    public func validate() throws(CairnError) {
        try Self.validateSubject(subject)
        try AccessNames.validate(id, noun: "grant id")
        if let replaces {
            guard isShadow else { throw CairnError(.invalidArgument, "'replaces' is for shadow grants only") }
            try AccessNames.validate(replaces, noun: "grant id")
        }
        switch target {
        case .organization: break
        case .project(let project): try Repository.validateProjectName(project)
        case .branch(let project, let branch):
            try Repository.validateProjectName(project)
            try Project.validateBranchName(branch)
        case .path(let project, let glob):
            try Repository.validateProjectName(project)
            guard !glob.isEmpty, glob.utf8.count <= 1024 else {
                throw CairnError(.invalidGlob, "a path target needs a glob of 1 to 1024 bytes")
            }
            _ = try Glob(glob)
        }
    }

    /// Subjects are typed (`user:`, `group:`, `agent:`, `service:`) so one grant cannot be read as
    /// another kind of principal.
    public static func validateSubject(_ subject: String) throws(CairnError) {
        let parts = subject.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, ["user", "group", "agent", "service"].contains(parts[0]), isNameable(parts[1]) else {
            let showable = subject.unicodeScalars.count <= 256 && isPrintable(subject)
            throw CairnError(
                .invalidArgument,
                "invalid subject\(showable ? " '\(subject)'" : ""): use user:ID, group:NAME, agent:ID or service:ID (1–248 printable "
                    + "characters)",
                details: showable ? ["subject": subject] : [:]
            )
        }
    }

    /// An identifier the grant rules can name: 1 to 248 characters, none of them a control or
    /// line/paragraph separator, so no subject can forge a line of a log or a listing.
    public static func isNameable(_ id: Substring) -> Bool {
        (1...248).contains(id.unicodeScalars.count) && isPrintable(id)
    }

    static func isPrintable(_ s: some StringProtocol) -> Bool {
        s.unicodeScalars.allSatisfy { u in
            switch u.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned: false
            default: true
            }
        }
    }
}

/// Names of roles, grants and keys become file names under `.cairn/access/`.
enum AccessNames {
    static func validate(_ name: String, noun: String) throws(CairnError) {
        let ok =
            !name.isEmpty && name.utf8.count <= 128
            && name.utf8.allSatisfy { c in
                (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 45 || c == 95 || c == 46
            } && !name.hasPrefix(".")
        if !ok {
            throw CairnError(
                .invalidArgument,
                "invalid \(noun) '\(name)': use 1–128 letters, digits, '-', '_' or '.'",
                details: [noun: name]
            )
        }
    }
}
