import CairnCore
import CairnStore
import Foundation

extension Gateway {
    /// The one answer every failed authentication gets, whatever the organization and whatever
    /// went wrong (DESIGN.md §8): the detail goes to the audit record and the log, never to the
    /// caller, so nobody can probe which organizations exist or how their identity is set up.
    /// The one answer to every failed authentication: before it succeeds, every failure looks the same.
    public static let unauthenticated = CairnError(
        .unauthenticated,
        "missing or invalid credential: send 'Authorization: Bearer <API key or ID token>'"
    )

    /// Authenticates a bearer credential (an API key or an OIDC ID token) for the organization a
    /// request addresses. A missing organization answers exactly like a bad credential. Every
    /// failure in an existing organization is audited (without the credential).
    ///
    /// `client` is the caller's network address: an address whose authentications keep failing
    /// is refused (429) before any work, and its flood is audited as one summary record per
    /// interval rather than one record per request.
    public func authenticate(organization name: String, authorization: String?, client: String? = nil) async throws -> Caller {
        if let client, !authFailures.hasToken(client) {
            await floodRefused(organization: name, client: client)
            throw CairnError(
                .rateLimited,
                "too many failed authentications from this address; retry in \(authFailureRetrySeconds) s",
                details: ["retryAfterSeconds": String(authFailureRetrySeconds)]
            )
        }
        let org: OrganizationRecord
        let principal: Principal
        let policy: Policy
        do {
            guard let found = try await organization(named: name) else {
                throw AuthFailure(why: "no such organization", reason: "unknown_organization", credential: nil, org: nil)
            }
            org = found
            policy = try await self.policy(org)
            principal = try await identify(authorization, org: org, policy: policy)
        } catch let failure as AuthFailure {
            if let client { _ = authFailures.tryTake(client) }
            authFailureCounter(failure.reason).increment()
            if let org = failure.org {
                await authFailed(org, failure.why, credential: failure.credential, client: client)
            }
            logger.notice(
                "authentication failed",
                metadata: ["organization": "\(Self.clip(name, 128))", "reason": "\(failure.why)", "client": "\(client ?? "-")"]
            )
            throw Self.unauthenticated
        }
        try rateLimiter.take(principal.limitKey)
        var caller = Caller(principal: principal, organization: org)
        caller.snapshot = policy
        return caller
    }

    /// The same caller decided against the access configuration as it is now: its key looked up
    /// again (gone, revoked or expired: refused, audited), its policy snapshot renewed. Long-lived
    /// sessions call this before every action, so authority is never cached past a revocation.
    public func refresh(_ caller: Caller) async throws -> Caller {
        let policy = try await policy(caller.organization)
        var fresh = caller
        fresh.snapshot = policy
        // A workflow's authority is not a stored key: its scope is its definition's and its
        // engine checks the workflow is still enabled before every step.
        guard let old = caller.principal.key, !caller.principal.isWorkflow else { return fresh }
        let problem = policy.config.keys[old.id].map(Self.unusable) ?? ("unknown API key", "unknown_key")
        if let (why, reason) = problem {
            await authFailed(caller.organization, why + " (during a session)", credential: caller.principal.credential, client: nil)
            authFailureCounter(reason).increment()
            throw Self.unauthenticated
        }
        let p = caller.principal
        fresh = Caller(
            principal: Principal(
                subject: p.subject,
                kind: p.kind,
                groups: p.groups,
                credential: p.credential,
                key: policy.config.keys[old.id],
                onBehalfOf: p.onBehalfOf
            ),
            organization: caller.organization,
            reason: caller.reason
        )
        fresh.snapshot = policy
        return fresh
    }

    /// Why an authentication failed, for the audit record only.
    private struct AuthFailure: Error {
        let why: String
        /// A stable label for the metric of failures by reason.
        let reason: String
        let credential: String?
        let org: OrganizationRecord?
    }

    private func identify(_ authorization: String?, org: OrganizationRecord, policy: Policy) async throws -> Principal {
        guard let header = authorization, header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw AuthFailure(why: "no bearer credential", reason: "no_credential", credential: nil, org: org)
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        if token.hasPrefix(APIKeyToken.prefix) { return try authenticateKey(token, org: org, policy: policy) }
        guard let settings = policy.config.identity else {
            throw AuthFailure(
                why: "an ID token was sent but no identity provider is configured",
                reason: "no_identity_provider",
                credential: "oidc",
                org: org
            )
        }
        do {
            let identity = try await oidc.verify(token, settings: settings)
            return Principal(
                subject: "user:\(identity.user)",
                kind: .user,
                groups: identity.groups.map { "group:\($0)" },
                credential: "oidc"
            )
        } catch let e as CairnError {
            throw AuthFailure(why: e.message, reason: "invalid_token", credential: "oidc", org: org)
        }
    }

    private func authenticateKey(_ token: String, org: OrganizationRecord, policy: Policy) throws -> Principal {
        guard let (id, secret) = APIKeyToken.parse(token) else {
            throw AuthFailure(why: "malformed API key", reason: "malformed_key", credential: nil, org: org)
        }
        guard let key = policy.config.keys[id], APIKeyToken.constantTimeEqual(APIKeyToken.hash(secret), key.secretHash) else {
            throw AuthFailure(why: "unknown API key", reason: "unknown_key", credential: "key:\(id)", org: org)
        }
        if let (why, reason) = Self.unusable(key) { throw AuthFailure(why: why, reason: reason, credential: "key:\(id)", org: org) }
        let kind: ActorKind =
            switch key.kind {
            case .user: .user
            case .agent: .agent
            case .service: .service
            }
        return Principal(
            subject: key.subject,
            kind: kind,
            credential: "key:\(id)",
            key: key,
            onBehalfOf: key.kind == .user ? nil : key.createdBy
        )
    }

    /// Why a key that exists may not be used now (revoked, expired), with its metric label; nil if it may.
    private static func unusable(_ key: APIKeyRecord) -> (why: String, reason: String)? {
        if key.revokedAt != nil { return ("revoked API key", "revoked_key") }
        if let expires = key.expiresMillis, expires <= Clock.nowMillis() { return ("expired API key", "expired_key") }
        return nil
    }

    private func authFailed(_ org: OrganizationRecord, _ why: String, credential: String?, client: String?) async {
        let record = AuditRecord(
            organization: org.name,
            actor: "anonymous",
            actorKind: "unknown",
            action: "auth.authenticate",
            outcome: "unauthenticated",
            credential: credential,
            error: "unauthenticated: \(Self.clip(why, 512))",
            detail: client.map { ["client": $0] }
        )
        await append(record, organization: org.id)
    }

    /// One audit record per interval for an address refused for failing too often: the count
    /// of refusals since the last such record, so a flood costs the log a line, not a line a request.
    private func floodRefused(organization name: String, client: String) async {
        guard let refused = floodCounts.record(client) else { return }
        logger.warning(
            "refusing authentication from an address that keeps failing",
            metadata: ["client": "\(client)", "refused": "\(refused)"]
        )
        guard let org = try? await organization(named: name) else { return }
        let record = AuditRecord(
            organization: org.name,
            actor: "anonymous",
            actorKind: "unknown",
            action: "auth.flood",
            outcome: "rate_limited",
            error: "rate_limited: authentications from this address kept failing",
            detail: ["client": client, "refusedSinceLastRecord": String(refused)]
        )
        await append(record, organization: org.id)
    }

    /// At most `limit` characters of text copied from a request into a record or a log line.
    static func clip(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "… (\(text.utf8.count) bytes)"
    }

    /// The identity provider people of `organization` sign in with, for the console's
    /// authorization-code flow; nil when the organization is unknown or has none (one answer for
    /// both, so the question tells nothing of which organizations exist).
    public func signInProvider(organization name: String) async -> IdentitySettings? {
        guard let org = try? await organization(named: name), let policy = try? await self.policy(org) else { return nil }
        return policy.config.identity
    }
}
