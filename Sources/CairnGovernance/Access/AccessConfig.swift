import CairnCore
import CairnStore
import Foundation

/// Where access configuration lives in an organization's system project. Every file is JSON;
/// the store's history makes "who could do what at time T" a point-in-time read.
public enum AccessPaths {
    public static let root = ".cairn/access/"
    public static let roles = root + "roles/"
    public static let grants = root + "grants/"
    public static let keys = root + "keys/"
    public static let identity = root + "identity.json"
    /// Which sensitive operations wait in the approval queue (see `ApprovalSettings`).
    public static let approvals = root + "approvals.json"

    /// The file of a role in the system project: access configuration is versioned data like
    /// everything else.
    public static func role(_ name: String) -> String { roles + name + ".json" }
    /// The file of a grant in the system project.
    public static func grant(_ id: String) -> String { grants + id + ".json" }
    /// The file of an API key record (its hash, never its secret) in the system project.
    public static func key(_ id: String) -> String { keys + id + ".json" }
}

/// The access configuration of one organization as of one commit of its system project.
public struct AccessConfig: Sendable {
    public let commit: ObjectID
    public let roles: [String: Role]
    public let grants: [Grant]
    public let keys: [String: APIKeyRecord]
    public let identity: IdentitySettings?
    public let approvals: ApprovalSettings

    public init(
        commit: ObjectID,
        roles: [String: Role],
        grants: [Grant],
        keys: [String: APIKeyRecord],
        identity: IdentitySettings?,
        approvals: ApprovalSettings = ApprovalSettings()
    ) {
        self.approvals = approvals
        self.commit = commit
        self.roles = roles
        self.grants = grants
        self.keys = keys
        self.identity = identity
    }

    /// Reads every file under `.cairn/access/` at `ref` of the system project.
    static func load(from project: Project, at ref: String) async throws -> AccessConfig {
        let resolved = try await project.resolve(ref)
        let at = resolved.commit.hex
        var roles: [String: Role] = [:]
        for role in Role.defaults { roles[role.name] = role }
        var grants: [Grant] = []
        var keys: [String: APIKeyRecord] = [:]
        var identity: IdentitySettings?
        var approvals = ApprovalSettings()
        let decoder = JSONDecoder()
        var cursor: String?
        repeat {
            let page = try await project.glob(AccessPaths.root + "**", at: at, limit: 5000, after: cursor)
            for path in page.paths {
                let (_, _, bytes) = try await project.readBytes(path, at: at)
                let data = Data(bytes)
                do {
                    if path.hasPrefix(AccessPaths.roles) {
                        let role = try decoder.decode(Role.self, from: data)
                        roles[role.name] = role
                    } else if path.hasPrefix(AccessPaths.grants) {
                        grants.append(try decoder.decode(Grant.self, from: data))
                    } else if path.hasPrefix(AccessPaths.keys) {
                        let key = try decoder.decode(APIKeyRecord.self, from: data)
                        keys[key.id] = key
                    } else if path == AccessPaths.approvals {
                        approvals = try decoder.decode(ApprovalSettings.self, from: data)
                    } else if path == AccessPaths.identity {
                        identity = try decoder.decode(IdentitySettings.self, from: data)
                    }
                } catch {
                    // Files here are written only through validated Gateway calls; a file that no
                    // longer decodes is skipped (it grants nothing), never guessed at.
                    continue
                }
            }
            cursor = page.next
        } while cursor != nil
        return AccessConfig(commit: resolved.commit, roles: roles, grants: grants, keys: keys, identity: identity, approvals: approvals)
    }
}
