import CairnCore
@_spi(StoreWrites) import CairnStore

/// Organizations and their system projects. An organization's access configuration lives as
/// files in its system project, `_system`, which no file API exposes directly.
public enum Tenancy {
    public static let systemProject = "_system"

    /// The organization, made (with its system project) if absent; `created` says which.
    public static func ensure(_ name: String, repository: Repository) async throws -> (OrganizationRecord, created: Bool) {
        var created = false
        let org: OrganizationRecord
        if let found = try await repository.storage.organization(named: name) {
            org = found
        } else {
            do {
                org = try await repository.createOrganization(name: name)
                created = true
            } catch let e as CairnError where e.code == .organizationExists {
                org = try await repository.organization(name)
            }
        }
        if try await repository.storage.project(organization: org.id, named: systemProject) == nil {
            do {
                let record = AuditRecord(
                    organization: org.name,
                    actor: Principal.localOperator.subject,
                    actorKind: "service",
                    action: "organization.create",
                    outcome: "ok",
                    credential: "local",
                    reason: "create organization \(org.name)"
                )
                _ = try await repository.createProject(
                    name: systemProject,
                    organization: org.id,
                    metadata: CommitMetadata(
                        author: Principal.localOperator.subject,
                        message: "create organization \(org.name)",
                        actorKind: .service
                    ),
                    system: true,
                    audit: { _ in record.append(organization: org.id) }
                )
            } catch let e as CairnError where e.code == .projectExists {}
        }
        return (org, created)
    }

    /// Whether a project name is one the file and history APIs may address.
    static func isUserProject(_ name: String) -> Bool { !name.hasPrefix("_") }
}
