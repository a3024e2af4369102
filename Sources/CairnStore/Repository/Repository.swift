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

    public init(author: String, message: String, onBehalfOf: String? = nil, actorKind: ActorKind = .user, runID: String? = nil, step: Int? = nil) {
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
    let nodes = NodeCache()
    private let commits = Mutex<[ProjectObject: Commit]>([:])
    let queue: CommitQueue

    public init(storage: any Storage) {
        self.storage = storage
        self.queue = CommitQueue(storage: storage, nodes: nodes)
    }

    /// Makes a project with an empty `main`, whose first commit marks the project's birth.
    public func createProject(name: String, metadata: CommitMetadata) async throws -> ProjectRecord {
        try Self.validateProjectName(name)
        let now = Clock.nowMillis()
        let empty = TreeNode.empty
        let emptyBytes = empty.encoded()
        let emptyID = ObjectID.hash(kind: ObjectKind.tree.rawValue, payload: emptyBytes)
        let commit = Commit(
            tree: emptyID, parents: [], author: metadata.author, onBehalfOf: metadata.onBehalfOf,
            actorKind: metadata.actorKind, runID: metadata.runID, step: metadata.step,
            timeMillis: now, message: metadata.message)
        let bytes = commit.encoded()
        let id = ObjectID.hash(kind: ObjectKind.commit.rawValue, payload: bytes)
        return try await storage.createProject(name: name, timeMillis: now) { project in
            var batch = WriteBatch()
            batch.objects = [
                (project, emptyID, StoredObject(kind: .tree, data: emptyBytes)),
                (project, id, StoredObject(kind: .commit, data: bytes)),
            ]
            batch.commitIndex = [(project, CommitIndexEntry(id: id, generation: 0, parent: nil, skip: nil, timeMillis: now))]
            batch.refUpdates = [
                RefUpdate(project: project, branch: "main", expected: nil, new: id, timeMillis: now, principal: metadata.author, reason: "create project")
            ]
            return batch
        }
    }

    public func projects() async throws -> [ProjectRecord] { try await storage.projects() }

    /// A handle on one project; fails with `project_not_found` if there is none of that name.
    public func project(_ name: String) async throws -> Project {
        guard let record = try await storage.project(named: name) else {
            throw CairnError(.projectNotFound, "no project named '\(name)'; `cairn project list` shows the projects", details: ["project": name])
        }
        return Project(record: record, repository: self)
    }

    static func validateProjectName(_ name: String) throws(CairnError) {
        let ok = !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy { c in
                (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 45 || c == 95 || c == 46
            }
            && name.utf8.first.map { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) } == true
        if !ok {
            throw CairnError(
                .invalidArgument,
                "invalid project name '\(name)': use 1–64 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit",
                details: ["name": name])
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
            if cache.count > 50_000 { cache.removeAll(keepingCapacity: true) }
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
