import CairnCore
@_spi(StoreWrites) import CairnStore

/// The organization's projects: listed as far as the caller may read them, created down the
/// write path's audit like any other change.
extension Gateway {
    /// The projects the caller may read; others are not listed, so their names never leak.
    public func projects(_ caller: Caller) async throws -> [ProjectRecord] {
        let policy = try await policy(for: caller)
        return try await repository.projects(organization: caller.organization.id).filter {
            Tenancy.isUserProject($0.name) && policy.decide(caller.principal, .read, AccessTarget(project: $0.name)).allowed
        }
    }

    /// Creates a project (needs `configure` on the organization); names starting with `_` are the
    /// system's.
    public func createProject(_ caller: Caller, name: String) async throws -> ProjectRecord {
        let decision = try await authorize(caller, .configure, .organization, action: "project.create")
        guard Tenancy.isUserProject(name) else {
            throw CairnError(.invalidArgument, "project names starting with '_' are reserved", details: ["name": name])
        }
        let target = AccessTarget(project: name)
        return try await change(caller, action: "project.create", decision: decision, target: target) {
            try await repository.createProject(
                name: name,
                organization: caller.organization.id,
                metadata: metadata(caller, default: "create project \(name)"),
                audit: auditHook(caller, action: "project.create", decision: decision, target: target)
            )
        }
    }
}
