import CairnCore
import CairnStore

/// An organization's access configuration compiled for fast decisions: grants indexed by
/// subject, role authorities resolved to bit masks, path globs compiled once.
///
/// The rules (DESIGN.md §4), in order:
/// 1. An explicit deny on a target covering the action, for any of the principal's subjects, wins.
/// 2. The organization-level roles are the ceiling: an authority none of them holds is denied.
/// 3. The most specific level of allow grants covering the target (path > branch > project >
///    organization) decides; a narrower grant can only narrow what the ceiling allows.
/// 4. Nothing applies: denied.
/// An API key is further limited to its role on its scope, and an agent or service key to what
/// the person who minted it may do, evaluated now (so the agent never exceeds them).
public final class Policy: Sendable {
    public let config: AccessConfig
    private let bySubject: [String: [Compiled]]
    /// The rules with every shadow grant in force (nil when there is none): decisions are
    /// evaluated under both, and where they differ the difference is logged.
    public let shadow: Policy?

    private struct Compiled: Sendable {
        let grant: Grant
        let authorities: AuthoritySet
        let glob: Glob?
    }

    public convenience init(_ config: AccessConfig) {
        let shadows = config.grants.filter(\.isShadow)
        var shadowPolicy: Policy?
        if !shadows.isEmpty {
            let replaced = Set(shadows.compactMap(\.replaces))
            let promoted = shadows.map { g in Grant(id: g.id, subject: g.subject, role: g.role, target: g.target, effect: g.effect) }
            let grants = config.grants.filter { !$0.isShadow && !replaced.contains($0.id) } + promoted
            shadowPolicy = Policy(
                AccessConfig(
                    commit: config.commit,
                    roles: config.roles,
                    grants: grants,
                    keys: config.keys,
                    identity: config.identity,
                    approvals: config.approvals
                ),
                shadow: nil
            )
        }
        self.init(config, shadow: shadowPolicy)
    }

    private init(_ config: AccessConfig, shadow: Policy?) {
        self.config = config
        self.shadow = shadow
        var index: [String: [Compiled]] = [:]
        for grant in config.grants where !grant.isShadow {
            let authorities = config.roles[grant.role]?.authorities ?? AuthoritySet()
            var glob: Glob?
            if case .path(_, let pattern) = grant.target { glob = try? Glob(pattern) }
            index[grant.subject, default: []].append(Compiled(grant: grant, authorities: authorities, glob: glob))
        }
        bySubject = index
    }

    /// The role of that name in this configuration, if any.
    public func role(_ name: String) -> Role? { config.roles[name] }

    /// The decision for one principal, authority and target, with the rule that made it: denies
    /// win, the organization role is the ceiling, keys narrow, and nothing allowed is the default.
    public func decide(_ principal: Principal, _ authority: Authority, _ target: AccessTarget) -> Decision {
        if principal.isLocal {
            return decision(principal.subject, authority, target, true, "local-operator", "the local operator holds the data folder")
        }
        if let key = principal.key {
            if key.revokedAt != nil {
                return decision(principal.subject, authority, target, false, "key-scope:\(key.id)", "the API key was revoked")
            }
            // The subject's own grants bind every key of it: an explicit deny always wins, and allow
            // grants naming an agent or service narrow its keys further. This is what the
            // evaluation endpoint answers for the subject, so the reported decision is the enforced one.
            let own = [principal.subject] + principal.groups
            if key.kind != .user {
                if let denied = explicitDeny(subjects: own, authority, target, subject: principal.subject) { return denied }
                if hasAllowGrants(own) {
                    let granted = decide(subjects: own, authority, target, subject: principal.subject)
                    if !granted.allowed { return granted }
                }
            }
            let scoped = config.roles[key.role]?.authorities ?? AuthoritySet()
            guard scoped.contains(authority), covers(key.scope, target) else {
                return decision(
                    principal.subject,
                    authority,
                    target,
                    false,
                    "key-scope:\(key.id)",
                    "the API key is limited to role '\(key.role)' on \(Self.describe(key.scope))"
                )
            }
            if key.kind != .user {
                // An agent or service key acts within its scope, and never beyond the person behind it.
                guard let owner = principal.onBehalfOf else {
                    return decision(principal.subject, authority, target, true, "key-scope:\(key.id)", "allowed by the key's scope")
                }
                let behind = decide(subjects: [owner], authority, target, subject: principal.subject)
                if !behind.allowed {
                    return decision(
                        principal.subject,
                        authority,
                        target,
                        false,
                        "on-behalf-of:\(owner)",
                        "\(owner), on whose behalf it acts, may not: \(behind.reason)"
                    )
                }
                return decision(
                    principal.subject,
                    authority,
                    target,
                    true,
                    "key-scope:\(key.id)",
                    "allowed by the key's scope and by \(owner)"
                )
            }
        }
        return decide(subjects: [principal.subject] + principal.groups, authority, target, subject: principal.subject)
    }

    /// Whether any enforced allow grant names one of these subjects.
    func hasAllowGrants(_ subjects: [String]) -> Bool {
        subjects.contains { bySubject[$0]?.contains { $0.grant.effect == .allow } ?? false }
    }

    /// The decision of an explicit deny of these subjects covering the action, if there is one.
    private func explicitDeny(subjects: [String], _ authority: Authority, _ target: AccessTarget, subject: String) -> Decision? {
        for s in subjects {
            for g in bySubject[s] ?? [] where g.grant.effect == .deny && g.authorities.contains(authority) && covers(g, target) {
                return decision(
                    subject,
                    authority,
                    target,
                    false,
                    "grant:\(g.grant.id)",
                    "an explicit deny ('\(g.grant.role)' for \(s)) applies"
                )
            }
        }
        return nil
    }

    private func decide(subjects: [String], _ authority: Authority, _ target: AccessTarget, subject: String) -> Decision {
        var ceiling = AuthoritySet()
        var ceilingRule: String?
        var bestLevel = -1
        var best = AuthoritySet()
        var bestRule = ""
        for s in subjects {
            guard let grants = bySubject[s] else { continue }
            for g in grants where covers(g, target) {
                if g.grant.effect == .deny {
                    if g.authorities.contains(authority) {
                        return decision(
                            subject,
                            authority,
                            target,
                            false,
                            "grant:\(g.grant.id)",
                            "an explicit deny ('\(g.grant.role)' for \(s)) applies"
                        )
                    }
                    continue
                }
                let level = g.grant.target.level
                if level == 0 {
                    ceiling = ceiling.union(g.authorities)
                    if ceilingRule == nil || g.authorities.contains(authority) { ceilingRule = "grant:\(g.grant.id)" }
                }
                if level > bestLevel {
                    bestLevel = level
                    best = g.authorities
                    bestRule = "grant:\(g.grant.id)"
                } else if level == bestLevel {
                    best = best.union(g.authorities)
                    if g.authorities.contains(authority) { bestRule = "grant:\(g.grant.id)" }
                }
            }
        }
        guard let ceilingRule else {
            return decision(subject, authority, target, false, "default-deny", "no role in the organization")
        }
        guard ceiling.contains(authority) else {
            return decision(subject, authority, target, false, "org-ceiling", "no organization role of it includes '\(authority.rawValue)'")
        }
        if best.contains(authority) {
            return decision(subject, authority, target, true, bestLevel == 0 ? ceilingRule : bestRule, "granted")
        }
        return decision(
            subject,
            authority,
            target,
            false,
            bestRule,
            "a narrower grant on \(target.description) does not include '\(authority.rawValue)'"
        )
    }

    private func covers(_ g: Compiled, _ target: AccessTarget) -> Bool {
        switch g.grant.target {
        case .organization: return true
        case .project(let p): return target.project == p
        case .branch(let p, let b): return target.project == p && target.branch == b
        case .path(let p, _):
            guard target.project == p, let path = target.path, let glob = g.glob else { return false }
            return glob.matches(path)
        }
    }

    private func covers(_ scope: GrantTarget, _ target: AccessTarget) -> Bool {
        switch scope {
        case .organization: return true
        case .project(let p): return target.project == p
        case .branch(let p, let b): return target.project == p && target.branch == b
        case .path(let p, let pattern):
            guard target.project == p else { return false }
            // A path-scoped key may still list and navigate its project; it acts only on matching paths.
            guard let path = target.path else { return true }
            return (try? Glob(pattern))?.matches(path) ?? false
        }
    }

    static func describe(_ t: GrantTarget) -> String {
        switch t {
        case .organization: "the organization"
        case .project(let p): "project '\(p)'"
        case .branch(let p, let b): "branch '\(b)' of project '\(p)'"
        case .path(let p, let g): "paths '\(g)' of project '\(p)'"
        }
    }

    private func decision(
        _ subject: String,
        _ authority: Authority,
        _ target: AccessTarget,
        _ allowed: Bool,
        _ rule: String,
        _ reason: String
    ) -> Decision {
        Decision(
            allowed: allowed,
            subject: subject,
            authority: authority,
            target: target,
            rule: rule,
            reason: reason,
            configCommit: config.commit
        )
    }

    /// Whether any grant of these subjects is path-scoped in `project`: when none is, results of
    /// a multi-path read need no per-path filtering.
    public func hasPathRules(_ principal: Principal, project: String) -> Bool {
        if let key = principal.key, key.path != nil { return true }
        let subjects = [principal.subject] + principal.groups + (principal.onBehalfOf.map { [$0] } ?? [])
        return subjects.contains { s in
            bySubject[s]?.contains { g in
                if case .path(let p, _) = g.grant.target { return p == project }
                return false
            } ?? false
        }
    }
}
