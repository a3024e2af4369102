import CairnCore
import Synchronization

/// Who is writing and why: recorded on every commit.
public struct CommitMetadata: Sendable, Codable, Equatable {
    public var author: String
    public var onBehalfOf: String?
    public var actorKind: ActorKind
    public var runID: String?
    public var step: Int?
    public var message: String
    /// The approvals that admitted the change: ids of the commits that recorded them in the
    /// organization's workflow project, so lineage can go from a value to who signed it off.
    public var approvals: [ObjectID] = []

    public init(
        author: String,
        message: String,
        onBehalfOf: String? = nil,
        actorKind: ActorKind = .user,
        runID: String? = nil,
        step: Int? = nil
    ) {
        self.author = author
        self.onBehalfOf = onBehalfOf
        self.actorKind = actorKind
        self.runID = runID
        self.step = step
        self.message = message
    }
}

/// The versioned store of every project in one backend: the store layer's entry point.
///
/// Reads go straight to storage through shared caches; every change goes through one
/// group-commit queue, which is what turns many concurrent writers into few durable transactions.
///
/// ## Topics
/// - ``createProject(name:metadata:)``
/// - ``project(_:)``
public final class Repository: Sendable {
    public let storage: any Storage
    /// Decoded tree nodes shared by every project; its `bytes` are reported in `/metrics`.
    public let nodes: NodeCache
    private let commits = Mutex<[ProjectObject: Commit]>([:])
    let queue: CommitQueue

    /// `nodeCacheBytes` bounds the memory of decoded tree nodes kept between requests.
    public init(storage: any Storage, nodeCacheBytes: Int = 64 << 20) {
        self.storage = storage
        self.nodes = NodeCache(capacityBytes: nodeCacheBytes)
        self.queue = CommitQueue(storage: storage, nodes: nodes)
    }

    /// Makes an organization: the tenant every project lives in.
    @_spi(StoreWrites) public func createOrganization(name: String) async throws -> OrganizationRecord {
        try Self.validateProjectName(name, noun: "organization")
        return try await storage.createOrganization(name: name, timeMillis: Clock.nowMillis())
    }

    /// The organization of that name; `not_found` when there is none.
    public func organization(_ name: String) async throws -> OrganizationRecord {
        guard let org = try await storage.organization(named: name) else {
            throw CairnError(.notFound, "no organization named '\(name)'", details: ["organization": name])
        }
        return org
    }

    /// Makes a project with an empty `main`, whose first commit marks the project's birth.
    /// Names starting with `_` are reserved for system projects, made with `system: true`.
    @_spi(StoreWrites) public func createProject(
        name: String,
        organization: Int64,
        metadata: CommitMetadata,
        system: Bool = false,
        audit: AuditHook? = nil
    ) async throws -> ProjectRecord {
        if !(system && name.hasPrefix("_")) { try Self.validateProjectName(name) }
        let now = Clock.nowMillis()
        let empty = TreeNode.empty
        let emptyBytes = empty.encoded()
        let emptyID = ObjectID.hash(kind: ObjectKind.tree.rawValue, payload: emptyBytes)
        let commit = Commit(
            tree: emptyID,
            parents: [],
            author: metadata.author,
            onBehalfOf: metadata.onBehalfOf,
            actorKind: metadata.actorKind,
            runID: metadata.runID,
            step: metadata.step,
            timeMillis: now,
            message: metadata.message
        )
        let bytes = commit.encoded()
        let id = ObjectID.hash(kind: ObjectKind.commit.rawValue, payload: bytes)
        return try await storage.createProject(organization: organization, name: name, timeMillis: now) { project in
            var batch = WriteBatch()
            batch.objects = [
                (project, emptyID, StoredObject(kind: .tree, data: emptyBytes)),
                (project, id, StoredObject(kind: .commit, data: bytes)),
            ]
            batch.commitIndex = [(project, CommitIndexEntry(id: id, generation: 0, parent: nil, skip: nil, timeMillis: now))]
            batch.refUpdates = [
                RefUpdate(
                    project: project,
                    branch: "main",
                    expected: nil,
                    new: id,
                    timeMillis: now,
                    principal: metadata.author,
                    reason: "create project"
                )
            ]
            if let audit { batch.audit = [audit(CommitOutcome(commit: id, head: id, branch: "main", changed: []))] }
            return batch
        }
    }

    /// The projects of an organization, system ones included (the Gateway hides those).
    public func projects(organization: Int64) async throws -> [ProjectRecord] { try await storage.projects(organization: organization) }

    /// A handle on one project of one organization; `project_not_found` if it has none of that name.
    public func project(_ name: String, organization: Int64) async throws -> Project {
        guard let record = try await storage.project(organization: organization, named: name) else {
            throw CairnError(
                .projectNotFound,
                "no project named '\(name)'; `cairn project list` shows the projects",
                details: ["project": name]
            )
        }
        return Project(record: record, repository: self)
    }

    /// Project names become identifiers in URLs and paths: lower-case letters, digits, `.`, `_`,
    /// `-`.
    public static func validateProjectName(_ name: String, noun: String = "project") throws(CairnError) {
        let ok =
            !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy { c in
                (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 45 || c == 95 || c == 46
            }
            && name.utf8.first.map { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) } == true
        if !ok {
            throw CairnError(
                .invalidArgument,
                "invalid \(noun) name '\(name)': use 1–64 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit",
                details: ["name": name]
            )
        }
    }

    func commit(_ id: ObjectID, project: Int64) async throws -> Commit {
        let key = ProjectObject(project: project, id: id)
        if let c = commits.withLock({ $0[key] }) { return c }
        guard let object = try await storage.object(id, project: project), object.kind == .commit else {
            throw CairnError(.unknownRef, "no commit \(id.short) in this project", details: ["ref": id.hex])
        }
        let c = try Commit(decoding: object.data)
        commits.withLock { cache in
            if cache.count > 20_000 { cache.removeAll(keepingCapacity: true) }
            cache[key] = c
        }
        return c
    }
}

/// Objects are namespaced per project, so every cache is keyed by both.
struct ProjectObject: Hashable, Sendable {
    let project: Int64
    let id: ObjectID
}
