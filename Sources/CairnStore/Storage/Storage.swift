import CairnCore

/// The tenant boundary: every project belongs to exactly one organization, and every lookup
/// of a project names its organization, so no query can reach across tenants.
public struct OrganizationRecord: Sendable, Codable, Equatable {
    public let id: Int64
    public let name: String
    public let createdMillis: Millis

    public init(id: Int64, name: String, createdMillis: Millis) {
        self.id = id
        self.name = name
        self.createdMillis = createdMillis
    }
}

/// A project's row: its number namespaces every object, ref and index row of the project.
public struct ProjectRecord: Sendable, Codable, Equatable {
    public let id: Int64
    public let organization: Int64
    public let name: String
    public let createdMillis: Millis

    public init(id: Int64, organization: Int64, name: String, createdMillis: Millis) {
        self.id = id
        self.organization = organization
        self.name = name
        self.createdMillis = createdMillis
    }
}

/// One move of a branch, kept forever: the branch's state at any instant is the last entry at or before it.
public struct RefLogEntry: Sendable, Codable, Equatable {
    public let seq: Int64
    public let branch: String
    public let old: ObjectID?
    public let new: ObjectID?
    public let timeMillis: Millis
    public let principal: String
    public let reason: String

    public init(seq: Int64, branch: String, old: ObjectID?, new: ObjectID?, timeMillis: Millis, principal: String, reason: String) {
        self.seq = seq
        self.branch = branch
        self.old = old
        self.new = new
        self.timeMillis = timeMillis
        self.principal = principal
        self.reason = reason
    }
}

/// Per-commit ancestry index: first-parent depth and a skip pointer, so "the first-parent
/// ancestor of X at generation g" costs O(log n) lookups instead of a walk.
public struct CommitIndexEntry: Sendable, Equatable {
    public let id: ObjectID
    public let generation: Int
    public let parent: ObjectID?
    public let skip: ObjectID?
    public let timeMillis: Millis

    public init(id: ObjectID, generation: Int, parent: ObjectID?, skip: ObjectID?, timeMillis: Millis) {
        self.id = id
        self.generation = generation
        self.parent = parent
        self.skip = skip
        self.timeMillis = timeMillis
    }
}

/// How a path changed in a commit, as the path-history index records it.
public enum ChangeKind: String, Sendable, Codable {
    case added, modified, deleted
}

/// One row of the path-history index: a commit changed a path (relative to its first parent).
public struct PathHistoryEntry: Sendable, Equatable {
    public let path: String
    public let generation: Int
    public let commit: ObjectID
    public let change: ChangeKind
    public let blob: ObjectID?

    public init(path: String, generation: Int, commit: ObjectID, change: ChangeKind, blob: ObjectID?) {
        self.path = path
        self.generation = generation
        self.commit = commit
        self.change = change
        self.blob = blob
    }
}

/// A compare-and-swap move of a branch. `expected == nil` means the branch must not exist;
/// `new == nil` deletes it.
public struct RefUpdate: Sendable {
    public let project: Int64
    public let branch: String
    public let expected: ObjectID?
    public let new: ObjectID?
    public let timeMillis: Millis
    public let principal: String
    public let reason: String

    public init(project: Int64, branch: String, expected: ObjectID?, new: ObjectID?, timeMillis: Millis, principal: String, reason: String)
    {
        self.project = project
        self.branch = branch
        self.expected = expected
        self.new = new
        self.timeMillis = timeMillis
        self.principal = principal
        self.reason = reason
    }
}

/// Everything one durable transaction writes. Objects are inserted if absent; ref updates are
/// checked and applied in order, so several commits to one branch can share a transaction.
public struct WriteBatch: Sendable {
    public var objects: [(project: Int64, id: ObjectID, object: StoredObject)] = []
    public var refUpdates: [RefUpdate] = []
    public var commitIndex: [(project: Int64, entry: CommitIndexEntry)] = []
    public var pathHistory: [(project: Int64, entry: PathHistoryEntry)] = []
    /// Audit records written in the same transaction as the change they record (DESIGN.md §4).
    public var audit: [AuditAppend] = []
    /// Records of runs' calls; a number a run already holds fails the whole transaction.
    public var runCalls: [RunCallRecord] = []

    public init() {}

    public var isEmpty: Bool { objects.isEmpty && refUpdates.isEmpty && audit.isEmpty && runCalls.isEmpty }

    /// Adds another batch's writes, to apply both in one transaction.
    public mutating func append(_ other: WriteBatch) {
        objects += other.objects
        refUpdates += other.refUpdates
        commitIndex += other.commitIndex
        pathHistory += other.pathHistory
        audit += other.audit
        runCalls += other.runCalls
    }
}

/// A ref update found the branch somewhere other than expected: another writer got there first.
public struct RefCASFailure: Error, Sendable {
    public let project: Int64
    public let branch: String
    public let expected: ObjectID?
    public let actual: ObjectID?

    public init(project: Int64, branch: String, expected: ObjectID?, actual: ObjectID?) {
        self.project = project
        self.branch = branch
        self.expected = expected
        self.actual = actual
    }
}

/// The persistence boundary of the store layer (DESIGN.md §3).
///
/// It is deliberately dumb: immutable objects, refs moved only by compare-and-swap, and three
/// append-only indexes. Everything clever (trees, rebase, history) lives above it, so a second
/// backend (PostgreSQL) only has to get these few operations right and durable.
public protocol Storage: LeaseStore {
    /// Creates an organization; `organization_exists` if the name is taken.
    @_spi(StoreWrites) func createOrganization(name: String, timeMillis: Millis) async throws -> OrganizationRecord
    func organization(named name: String) async throws -> OrganizationRecord?
    func organization(id: Int64) async throws -> OrganizationRecord?
    func organizations() async throws -> [OrganizationRecord]

    /// Creates the project and writes `initial(projectID)` (its first commit and `main`) in the
    /// same transaction, so a project never exists without its main branch.
    @_spi(StoreWrites) func createProject(
        organization: Int64,
        name: String,
        timeMillis: Millis,
        initial: @Sendable (Int64) -> WriteBatch
    ) async throws -> ProjectRecord
    func project(organization: Int64, named name: String) async throws -> ProjectRecord?
    func projects(organization: Int64) async throws -> [ProjectRecord]

    func object(_ id: ObjectID, project: Int64) async throws -> StoredObject?
    func objects(_ ids: [ObjectID], project: Int64) async throws -> [ObjectID: StoredObject]
    /// Objects in id order after `after`, for verification; the last page is shorter than `limit`.
    func objectPage(project: Int64, after: ObjectID?, limit: Int) async throws -> [(ObjectID, StoredObject)]

    func head(project: Int64, branch: String) async throws -> ObjectID?
    func branches(project: Int64) async throws -> [(name: String, head: ObjectID)]
    /// The last ref-log entry of `branch` at or before `timeMillis`.
    func refLogEntry(project: Int64, branch: String, atOrBefore timeMillis: Millis) async throws -> RefLogEntry?
    func refLog(project: Int64, branch: String, beforeSeq: Int64?, limit: Int) async throws -> [RefLogEntry]
    /// The entry that last created `branch` (its old head absent): who made it, when, from what.
    func refCreation(project: Int64, branch: String) async throws -> RefLogEntry?

    func commitIndex(project: Int64, id: ObjectID) async throws -> CommitIndexEntry?
    /// Commit ids that start with the given id bytes range, for prefix resolution.
    func commitIDs(project: Int64, from: [UInt8], through: [UInt8], limit: Int) async throws -> [ObjectID]
    /// Path-history rows of one path in (generation, commit) descending order, strictly after
    /// the cursor `before` in that order.
    func pathHistory(
        project: Int64,
        path: String,
        before: (generation: Int, commit: ObjectID)?,
        limit: Int
    ) async throws -> [PathHistoryEntry]

    /// Writes the batch in one durable transaction, or nothing; throws `RefCASFailure` on a lost race.
    @_spi(StoreWrites) func apply(_ batch: WriteBatch) async throws

    /// Audit entries of one organization in sequence order, strictly after `afterSeq`.
    func auditEntries(organization: Int64, afterSeq: Int64, limit: Int, filter: AuditFilter) async throws -> [AuditEntry]

    /// The calls of one run in number order, strictly after `afterSeq`.
    func runCalls(project: Int64, run: String, afterSeq: Int64, limit: Int) async throws -> [RunCallRecord]

    /// Bytes the backend occupies, for benchmarks and operators.
    func storageBytes() async throws -> Int64

    /// Whether several servers may share this store (and so must tell each other of changes).
    var isShared: Bool { get }
    /// Tells the other servers sharing this store a message (the change feed's events), after
    /// the change it describes committed. A store only one process serves has no one to tell.
    func broadcast(_ message: [UInt8]) async throws
    /// What servers sharing this store broadcast, this one's own messages included.
    func broadcasts() -> AsyncStream<[UInt8]>

    /// One page of a table's rows in key order, strictly after `after` (a previous row's key
    /// columns), for copying a whole store between backends. Values use `StoreTable.columns`' order.
    func tableRows(_ table: StoreTable, after: [StoreValue]?, limit: Int) async throws -> [[StoreValue]]
    /// Loads rows exactly as exported (ids and sequence numbers kept), in one transaction per call.
    @_spi(StoreWrites) func loadRows(_ table: StoreTable, _ rows: [[StoreValue]]) async throws

    /// Throws unless the store answers now and its schema is the one this build needs (the
    /// server's `/readyz`).
    func checkReady() async throws
}

extension Storage {
    /// A backend is ready when it answers; backends that can tell more (a schema behind) override
    /// this.
    public func checkReady() async throws { _ = try await organization(id: 0) }
    public var isShared: Bool { false }
    /// One process alone on its store has no one to tell.
    public func broadcast(_ message: [UInt8]) async throws {}
    /// One process alone on its store hears nothing.
    public func broadcasts() -> AsyncStream<[UInt8]> { AsyncStream { $0.finish() } }
}
