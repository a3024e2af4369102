import CairnCore
@_spi(StoreWrites) import CairnStore
import Crypto
import Foundation

/// Access configuration: roles, grants, members, API keys and the identity provider, stored as
/// files in the organization's system project and changed only here, with `configure` (or, for
/// grants on one project, `share` there).
extension AccessArea {

    /// Commits configuration files to the system project, audited in the same transaction. When
    /// the organization gates access changes (or shares), the change is queued for approval
    /// instead (`ApprovalPending`). Keys are not gated: minting shows its token once, and a
    /// revocation must take effect at once.
    func configure(
        _ caller: Caller,
        action: String,
        decision: Decision,
        changes: [FileChange],
        detail: [String: String]? = nil,
        gated: Bool = true
    ) async throws -> CommitOutcome {
        let system = try await core.systemProject(caller.organization)
        let target = AccessTarget.organization
        let operation: ApprovalSettings.Operation = decision.authority == .share ? .share : .access
        if gated, try await core.policy(caller.organization).config.approvals.gates(operation) {
            try await core.review.enqueue(
                caller,
                operation: operation,
                action: action,
                summary: Self.summary(action, detail),
                project: nil,
                branch: "main",
                changes: changes,
                base: try await system.resolve("main").commit,
                decision: decision,
                detail: detail
            )
        }
        return try await core.change(caller, action: action, decision: decision, target: target) {
            try await system.commit(
                changes,
                branch: "main",
                metadata: core.metadata(caller, default: action),
                audit: core.auditHook(caller, action: action, decision: decision, target: target, detail: detail)
            )
        }
    }

    func encode(_ value: some Encodable) -> [UInt8] {
        Array((try? Gateway.configEncoder.encode(value)) ?? Data())
    }

    /// Refuses an access change that would take `configure` on the organization away from the
    /// caller making it: locking yourself out is the one access mistake the API cannot undo
    /// (`cairn admin token` on the server's machine still can).
    func keepOwnConfigure(_ caller: Caller, _ policy: Policy, roles: [String: Role]? = nil, grants: [Grant]? = nil) throws {
        guard policy.decide(caller.principal, .configure, .organization).allowed else { return }
        let c = policy.config
        let after = Policy(
            AccessConfig(
                commit: c.commit,
                roles: roles ?? c.roles,
                grants: grants ?? c.grants,
                keys: c.keys,
                identity: c.identity,
                approvals: c.approvals
            )
        )
        guard after.decide(caller.principal, .configure, .organization).allowed else {
            throw CairnError(
                .conflict,
                "this change would take 'configure' on the organization away from you, the one making it; have another administrator "
                    + "make it",
                details: ["subject": caller.principal.subject]
            )
        }
    }

    // MARK: Roles

    /// The organization's roles (needs `read` on the organization), defaults included.
    public func roles(_ caller: Caller) async throws -> [Role] {
        try await core.authorize(caller, .read, .organization, action: "access.roles")
        return try await core.policy(caller.organization).config.roles.values.sorted { $0.name < $1.name }
    }

    /// Creates or changes a role; a change is refused if it would take `configure` away from the
    /// caller making it.
    public func putRole(_ caller: Caller, _ role: Role) async throws -> Role {
        try AccessNames.validate(role.name, noun: "role")
        let decision = try await core.authorize(caller, .configure, .organization, action: "access.role.put")
        let policy = try await core.policy(caller.organization)
        var roles = policy.config.roles
        roles[role.name] = role
        try keepOwnConfigure(caller, policy, roles: roles)
        _ = try await configure(
            caller,
            action: "access.role.put",
            decision: decision,
            changes: [.write(path: AccessPaths.role(role.name), content: encode(role))],
            detail: ["role": role.name]
        )
        return role
    }

    /// Deletes a role no grant uses.
    public func deleteRole(_ caller: Caller, name: String) async throws {
        try AccessNames.validate(name, noun: "role")
        let decision = try await core.authorize(caller, .configure, .organization, action: "access.role.delete")
        let policy = try await core.policy(caller.organization)
        if let user = policy.config.grants.first(where: { $0.role == name }) {
            throw CairnError(
                .conflict,
                "role '\(name)' is used by grant '\(user.id)'; remove or change that grant first",
                details: ["grant": user.id]
            )
        }
        do {
            _ = try await configure(
                caller,
                action: "access.role.delete",
                decision: decision,
                changes: [.delete(AccessPaths.role(name))],
                detail: ["role": name]
            )
        } catch let e as CairnError where e.code == .notFound {
            throw CairnError(
                .notFound,
                Role.defaults.contains { $0.name == name }
                    ? "role '\(name)' is a default role and has no file to remove" : "no role named '\(name)'",
                details: ["role": name]
            )
        }
    }

    // MARK: Grants

    /// Every grant of the organization (needs `configure`).
    public func grants(_ caller: Caller) async throws -> [Grant] {
        try await core.authorize(caller, .configure, .organization, action: "access.grants")
        return try await core.policy(caller.organization).config.grants.sorted { $0.id < $1.id }
    }

    /// Grants on one project may be made by whoever may `share` it, with roles no wider than
    /// their own there; every other grant needs `configure` on the organization.
    public func putGrant(_ caller: Caller, _ grant: Grant) async throws -> Grant {
        try grant.validate()
        let policy = try await core.policy(caller.organization)
        guard let role = policy.role(grant.role) else {
            throw CairnError(.notFound, "no role named '\(grant.role)'", details: ["role": grant.role])
        }
        let decision = try await authorizeGrantChange(caller, grant, role: role, policy: policy)
        try keepOwnConfigure(caller, policy, grants: policy.config.grants.filter { $0.id != grant.id } + [grant])
        _ = try await configure(
            caller,
            action: "access.grant.put",
            decision: decision,
            changes: [.write(path: AccessPaths.grant(grant.id), content: encode(grant))],
            detail: ["grant": grant.id, "subject": grant.subject, "role": grant.role, "effect": grant.effect.rawValue]
        )
        return grant
    }

    /// Deletes a grant, unless it is the one that lets the caller configure access.
    public func deleteGrant(_ caller: Caller, id: String) async throws {
        try AccessNames.validate(id, noun: "grant id")
        let policy = try await core.policy(caller.organization)
        guard let grant = policy.config.grants.first(where: { $0.id == id }) else {
            try await core.authorize(caller, .configure, .organization, action: "access.grant.delete")
            throw CairnError(.notFound, "no grant '\(id)'", details: ["grant": id])
        }
        let decision = try await authorizeGrantChange(
            caller,
            grant,
            role: policy.role(grant.role) ?? Role(name: grant.role, authorities: .all),
            policy: policy
        )
        try keepOwnConfigure(caller, policy, grants: policy.config.grants.filter { $0.id != id })
        _ = try await configure(
            caller,
            action: "access.grant.delete",
            decision: decision,
            changes: [.delete(AccessPaths.grant(id))],
            detail: ["grant": id]
        )
    }

    private func authorizeGrantChange(_ caller: Caller, _ grant: Grant, role: Role, policy: Policy) async throws -> Decision {
        let project: String? =
            switch grant.target {
            case .project(let p), .branch(let p, _), .path(let p, _): p
            case .organization: nil
            }
        if let project, policy.decide(caller.principal, .share, AccessTarget(project: project)).allowed,
            !policy.decide(caller.principal, .configure, .organization).allowed
        {
            let share = try await core.authorize(caller, .share, AccessTarget(project: project), action: "access.grant.put")
            for a in role.authorities.list {
                try await core.authorize(caller, a, AccessTarget(project: project), action: "access.grant.put")
            }
            return share
        }
        return try await core.authorize(caller, .configure, .organization, action: "access.grant.put")
    }

    // MARK: Members

    /// A subject with a role on the organization itself (a grant on the organization).
    public struct Member: Sendable, Codable, Equatable {
        public let subject: String
        public let roles: [String]
    }

    /// Members are the subjects with a role on the organization itself.
    public func members(_ caller: Caller) async throws -> [Member] {
        try await core.authorize(caller, .configure, .organization, action: "access.members")
        var roles: [String: [String]] = [:]
        for g in try await core.policy(caller.organization).config.grants
        where g.target == .organization && g.effect == .allow && !g.isShadow {
            roles[g.subject, default: []].append(g.role)
        }
        return roles.keys.sorted().map { Member(subject: $0, roles: roles[$0]!.sorted()) }
    }

    /// The id of the grant that makes a subject a member: derived from the subject, so setting a
    /// member twice replaces one grant.
    public static func memberGrantID(_ subject: String) -> String {
        "member-" + Hex.encode(Array(SHA256.hash(data: Array(subject.utf8))).prefix(8))
    }

    /// Gives a subject a role on the organization (as a grant, so it is versioned and audited like
    /// one).
    public func putMember(_ caller: Caller, subject: String, role: String) async throws -> Member {
        _ = try await putGrant(caller, Grant(id: Self.memberGrantID(subject), subject: subject, role: role, target: .organization))
        return Member(subject: subject, roles: [role])
    }

    /// Removes every grant of a subject, unless that would lock the caller out.
    public func deleteMember(_ caller: Caller, subject: String) async throws {
        try Grant.validateSubject(subject)
        let decision = try await core.authorize(caller, .configure, .organization, action: "access.member.delete")
        let policy = try await core.policy(caller.organization)
        let ids = policy.config.grants.filter { $0.subject == subject }.map(\.id)
        guard !ids.isEmpty else { throw CairnError(.notFound, "'\(subject)' is not a member", details: ["subject": subject]) }
        try keepOwnConfigure(caller, policy, grants: policy.config.grants.filter { $0.subject != subject })
        _ = try await configure(
            caller,
            action: "access.member.delete",
            decision: decision,
            changes: ids.map { .delete(AccessPaths.grant($0)) },
            detail: ["subject": subject]
        )
    }

    // MARK: API keys

    /// A new key: its record, and its token, which is shown this once.
    public struct MintedKey: Sendable, Codable {
        public let key: APIKeyRecord
        /// Shown once: only its hash is kept.
        public let token: String
    }

    /// Mints an API key for a subject, optionally narrowed to a project and a path glob and given
    /// an expiry; never gated, since its token is shown only now.
    public func mintKey(
        _ caller: Caller,
        kind: APIKeyRecord.Kind,
        subject: String? = nil,
        role: String,
        project: String? = nil,
        path: String? = nil,
        expiresAt: String? = nil,
        description: String? = nil
    ) async throws -> MintedKey {
        let decision = try await core.authorize(caller, .configure, .organization, action: "access.key.mint")
        let policy = try await core.policy(caller.organization)
        guard policy.role(role) != nil else { throw CairnError(.notFound, "no role named '\(role)'", details: ["role": role]) }
        if let expiresAt, Clock.parseRFC3339(expiresAt) == nil {
            throw CairnError(.invalidArgument, "expiresAt must be an RFC 3339 time", details: ["expiresAt": expiresAt])
        }
        if let project { try Repository.validateProjectName(project) }
        if path != nil && project == nil { throw CairnError(.invalidArgument, "a path scope needs a project") }
        if let path { _ = try Glob(path) }
        let (id, token, hash) = APIKeyToken.mint()
        let who = subject ?? (kind == .user ? caller.principal.subject : "\(kind.rawValue):key-\(id)")
        try Grant.validateSubject(who)
        let record = APIKeyRecord(
            id: id,
            kind: kind,
            subject: who,
            role: role,
            project: project,
            path: path,
            expiresAt: expiresAt,
            createdBy: caller.principal.subject,
            createdAt: Clock.rfc3339(Clock.nowMillis()),
            revokedAt: nil,
            description: description,
            secretHash: hash
        )
        _ = try await configure(
            caller,
            action: "access.key.mint",
            decision: decision,
            changes: [.write(path: AccessPaths.key(id), content: encode(record))],
            detail: ["key": id, "subject": who, "role": role],
            gated: false
        )
        return MintedKey(key: record.redacted, token: token)
    }

    /// The organization's key records (hashes, never secrets).
    public func keys(_ caller: Caller) async throws -> [APIKeyRecord] {
        try await core.authorize(caller, .configure, .organization, action: "access.keys")
        return try await core.policy(caller.organization).config.keys.values.map(\.redacted).sorted {
            $0.createdAt < $1.createdAt || ($0.createdAt == $1.createdAt && $0.id < $1.id)
        }
    }

    /// Revokes a key at once: the next call made with it is refused, on every transport.
    public func revokeKey(_ caller: Caller, id: String) async throws -> APIKeyRecord {
        let decision = try await core.authorize(caller, .configure, .organization, action: "access.key.revoke")
        guard var record = try await core.policy(caller.organization).config.keys[id] else {
            throw CairnError(.notFound, "no API key '\(id)'", details: ["key": id])
        }
        if record.revokedAt == nil { record.revokedAt = Clock.rfc3339(Clock.nowMillis()) }
        _ = try await configure(
            caller,
            action: "access.key.revoke",
            decision: decision,
            changes: [.write(path: AccessPaths.key(id), content: encode(record))],
            detail: ["key": id],
            gated: false
        )
        return record.redacted
    }

    // MARK: Identity provider

    /// The organization's identity provider settings, if OIDC is set up.
    public func identity(_ caller: Caller) async throws -> IdentitySettings? {
        try await core.authorize(caller, .configure, .organization, action: "access.identity")
        return try await core.policy(caller.organization).config.identity
    }

    /// Sets the identity provider whose tokens the organization accepts; validated before it is
    /// stored.
    public func putIdentity(_ caller: Caller, _ settings: IdentitySettings) async throws -> IdentitySettings {
        try settings.validate()
        let decision = try await core.authorize(caller, .configure, .organization, action: "access.identity.put")
        _ = try await configure(
            caller,
            action: "access.identity.put",
            decision: decision,
            changes: [.write(path: AccessPaths.identity, content: encode(settings))],
            detail: ["issuer": settings.issuer]
        )
        return settings
    }

    // MARK: Approval settings

    /// Which operations wait in the approval queue.
    public func approvalSettings(_ caller: Caller) async throws -> ApprovalSettings {
        try await core.authorize(caller, .read, .organization, action: "access.approvals")
        return try await core.policy(caller.organization).config.approvals
    }

    /// Sets which operations wait in the approval queue and how many approvals each needs; as an
    /// access change, it is itself queued when the organization gates access.
    public func putApprovalSettings(_ caller: Caller, _ settings: ApprovalSettings) async throws -> ApprovalSettings {
        guard (1...20).contains(settings.requiredApprovals) else { throw CairnError(.invalidArgument, "requiredApprovals must be 1 to 20") }
        let decision = try await core.authorize(caller, .configure, .organization, action: "access.approvals.put")
        _ = try await configure(
            caller,
            action: "access.approvals.put",
            decision: decision,
            changes: [.write(path: AccessPaths.approvals, content: encode(settings))],
            detail: [
                "operations": settings.operations.map(\.rawValue).joined(separator: ","),
                "requiredApprovals": String(settings.requiredApprovals),
            ]
        )
        return settings
    }

    static func summary(_ action: String, _ detail: [String: String]?) -> String {
        let parts = (detail ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return parts.isEmpty ? action : "\(action) \(parts.joined(separator: " "))"
    }

    // MARK: Point-in-time access and decisions

    /// The policy at a time, or now.
    func policy(_ org: OrganizationRecord, at atMillis: Millis?) async throws -> Policy {
        if let atMillis { return try await core.policy(org, atMillis: atMillis) }
        return try await core.policy(org)
    }

    /// Roles and grants as they were at a time, with the configuration commit: who could do what
    /// then.
    public struct AccessSnapshot: Sendable, Codable {
        public let configCommit: ObjectID
        public let time: String
        public let roles: [Role]
        public let grants: [Grant]
    }

    /// The access configuration as it was at `timeMillis` (now when nil).
    public func snapshot(_ caller: Caller, atMillis: Millis?) async throws -> AccessSnapshot {
        try await core.authorize(caller, .configure, .organization, action: "access.snapshot")
        let policy = try await policy(caller.organization, at: atMillis)
        return AccessSnapshot(
            configCommit: policy.config.commit,
            time: Clock.rfc3339(atMillis ?? Clock.nowMillis()),
            roles: policy.config.roles.values.sorted { $0.name < $1.name },
            grants: policy.config.grants.sorted { $0.id < $1.id }
        )
    }

    /// "May X do Y on Z", answered without doing it (optionally as of a past time). Anyone may
    /// ask about themselves; asking about others needs `configure`.
    public func evaluate(
        _ caller: Caller,
        subject: String,
        groups: [String] = [],
        authority: Authority,
        target: AccessTarget,
        atMillis: Millis? = nil
    ) async throws -> Decision {
        try Grant.validateSubject(subject)
        if subject != caller.principal.subject {
            try await core.authorize(caller, .configure, .organization, action: "access.evaluate")
        }
        let policy = try await policy(caller.organization, at: atMillis)
        if subject == caller.principal.subject && groups.isEmpty {
            return policy.decide(caller.principal, authority, target)
        }
        let kind = ActorKind(rawValue: String(subject.prefix { $0 != ":" })) ?? .user
        let groupSubjects = groups.map { $0.hasPrefix("group:") ? $0 : "group:\($0)" }
        // An agent or service acts only through its API keys: it may do what one of its live keys
        // would be allowed, decided exactly as a request with that key is (its own grants, the
        // key's scope, the person who minted it). Without a key, its grants alone answer.
        if kind == .agent || kind == .service {
            let now = atMillis ?? Clock.nowMillis()
            let live = policy.config.keys.values
                .filter { $0.subject == subject && $0.revokedAt == nil && ($0.expiresMillis.map { $0 > now } ?? true) }
                .sorted { $0.id < $1.id }
            var first: Decision?
            for key in live {
                let principal = Principal(
                    subject: subject,
                    kind: kind,
                    groups: groupSubjects,
                    credential: "key:\(key.id)",
                    key: key,
                    onBehalfOf: key.kind == .user ? nil : key.createdBy
                )
                let decision = policy.decide(principal, authority, target)
                if decision.allowed { return decision }
                if first == nil || (first!.rule.hasPrefix("key-scope") && decision.rule.hasPrefix("grant:")) { first = decision }
            }
            if let first { return first }
        }
        return policy.decide(Principal(subject: subject, kind: kind, groups: groupSubjects, credential: "evaluation"), authority, target)
    }
}
