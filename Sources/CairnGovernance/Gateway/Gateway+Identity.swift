import CairnCore
import CairnStore

extension Gateway {
    /// Authenticates a bearer credential (an API key or an OIDC ID token) for the organization a
    /// request addresses. A missing organization answers exactly like a bad credential. Every
    /// failure in an existing organization is audited (without the credential).
    public func authenticate(organization name: String, authorization: String?) async throws -> Caller {
        let generic = CairnError(.unauthenticated, "missing or invalid credential: send 'Authorization: Bearer <API key or ID token>'")
        guard let org = try await organization(named: name) else { throw generic }
        guard let header = authorization, header.lowercased().hasPrefix("bearer "), header.count > 7 else {
            await authFailed(org, "no bearer credential", credential: nil)
            throw generic
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        let principal: Principal
        let policy = try await policy(org)
        if token.hasPrefix(APIKeyToken.prefix) {
            principal = try await authenticateKey(token, org: org, policy: policy, generic: generic)
        } else {
            guard let settings = policy.config.identity else {
                await authFailed(org, "an ID token was sent but no identity provider is configured", credential: "oidc")
                throw generic
            }
            do {
                let identity = try await oidc.verify(token, settings: settings)
                principal = Principal(subject: "user:\(identity.user)", kind: .user, groups: identity.groups.map { "group:\($0)" }, credential: "oidc")
            } catch let e as CairnError {
                await authFailed(org, e.message, credential: "oidc")
                throw e
            }
        }
        try rateLimiter.take(principal.credential == "oidc" ? principal.subject : principal.credential)
        var caller = Caller(principal: principal, organization: org)
        caller.snapshot = policy
        return caller
    }

    private func authenticateKey(_ token: String, org: OrganizationRecord, policy: Policy, generic: CairnError) async throws -> Principal {
        guard let (id, secret) = APIKeyToken.parse(token) else {
            await authFailed(org, "malformed API key", credential: nil)
            throw generic
        }
        guard let key = policy.config.keys[id], APIKeyToken.constantTimeEqual(APIKeyToken.hash(secret), key.secretHash) else {
            await authFailed(org, "unknown API key", credential: "key:\(id)")
            throw generic
        }
        if key.revokedAt != nil {
            await authFailed(org, "revoked API key", credential: "key:\(id)")
            throw CairnError(.unauthenticated, "this API key was revoked")
        }
        if let expires = key.expiresMillis, expires <= Clock.nowMillis() {
            await authFailed(org, "expired API key", credential: "key:\(id)")
            throw CairnError(.unauthenticated, "this API key has expired")
        }
        let kind: ActorKind = switch key.kind {
        case .user: .user
        case .agent: .agent
        case .service: .service
        }
        return Principal(subject: key.subject, kind: kind, credential: "key:\(id)", key: key, onBehalfOf: key.kind == .user ? nil : key.createdBy)
    }

    private func authFailed(_ org: OrganizationRecord, _ why: String, credential: String?) async {
        let record = AuditRecord(
            organization: org.name, actor: "anonymous", actorKind: "unknown", action: "auth.authenticate", outcome: "unauthenticated",
            credential: credential, error: "unauthenticated: \(why)")
        await append(record, organization: org.id)
    }
}
