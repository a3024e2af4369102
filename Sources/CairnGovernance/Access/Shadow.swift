import CairnCore
import CairnStore

/// Shadow mode for access rules: a grant marked `shadow` decides nothing, but every decision it
/// would have changed is logged (audit action `access.shadow`), and the report lists them, so a
/// rule can be watched against real traffic before it is enforced.
extension Gateway {
    /// Evaluates the shadow rules beside an enforced decision and logs a difference.
    func compareShadow(_ caller: Caller, _ policy: Policy, _ enforced: Decision, action: String) async {
        guard let shadow = policy.shadow else { return }
        let would = shadow.decide(caller.principal, enforced.authority, enforced.target)
        guard would.allowed != enforced.allowed else { return }
        await audit(
            caller,
            action: "access.shadow",
            outcome: would.allowed ? "would_allow" : "would_deny",
            decision: enforced,
            target: enforced.target,
            paths: enforced.target.path.map { [$0] },
            detail: [
                "for": action, "authority": enforced.authority.rawValue, "enforced": enforced.allowed ? "allow" : "deny",
                "shadow": would.allowed ? "allow" : "deny", "enforcedRule": enforced.rule, "shadowRule": would.rule,
            ]
        )
    }

    /// A decision a shadow grant would change: who, what, where, and both outcomes, so a rule can
    /// be tried on real traffic before it binds.
    public struct ShadowDifference: Sendable, Codable, Equatable {
        public let seq: Int64
        public let time: String
        public let subject: String
        public let action: String
        public let authority: String
        public let project: String?
        public let branch: String?
        public let path: String?
        public let enforced: String
        public let shadow: String
        public let enforcedRule: String
        public let shadowRule: String
    }

    /// The decisions shadow grants would have changed, for deciding whether to make them real.
    public struct ShadowReport: Sendable, Codable {
        /// The shadow grants in the configuration now.
        public let shadowGrants: [Grant]
        public let differences: [ShadowDifference]
        /// Per shadow rule, how many logged decisions it would have changed (this page).
        public let byRule: [String: Int]
        public let next: String?
    }
}

extension AccessArea {
    /// The requests where enforced and shadow rules decided differently, oldest first.
    public func shadowReport(
        _ caller: Caller,
        sinceMillis: Millis? = nil,
        limit: Int = 100,
        cursor: String? = nil
    ) async throws -> Gateway.ShadowReport {
        try await core.authorize(caller, .configure, .organization, action: "access.shadow.report")
        let page = try await AuditLog.query(
            core.storage,
            organization: caller.organization.id,
            AuditQuery(action: "access.shadow", sinceMillis: sinceMillis),
            limit: limit,
            cursor: cursor
        )
        let differences = page.entries.map { item in
            let r = item.record
            let d = r.detail ?? [:]
            return Gateway.ShadowDifference(
                seq: item.seq,
                time: r.time,
                subject: r.actor,
                action: d["for"] ?? "",
                authority: d["authority"] ?? "",
                project: r.project,
                branch: r.branch,
                path: r.paths?.first,
                enforced: d["enforced"] ?? "",
                shadow: d["shadow"] ?? "",
                enforcedRule: d["enforcedRule"] ?? "",
                shadowRule: d["shadowRule"] ?? ""
            )
        }
        var byRule: [String: Int] = [:]
        for d in differences { byRule[d.shadowRule, default: 0] += 1 }
        let grants = try await core.policy(caller.organization).config.grants.filter(\.isShadow).sorted { $0.id < $1.id }
        return Gateway.ShadowReport(shadowGrants: grants, differences: differences, byRule: byRule, next: page.next)
    }
}
