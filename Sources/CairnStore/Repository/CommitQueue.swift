import CairnCore
import Dispatch
import Metrics

/// A change to commit on a branch, computed against the commit the writer last saw (`base`).
struct CommitRequest: Sendable {
    let project: Int64
    let branch: String
    /// The head the writer read; if the branch has moved on, the request is rebased when its
    /// paths are untouched since, and is a conflict otherwise.
    let base: ObjectID
    /// Sorted by key, unique.
    let edits: [TreeEdit]
    let blobs: [ObjectID: [UInt8]]
    let metadata: CommitMetadata
    let extraParents: [ObjectID]
    let reason: String
    let audit: AuditHook?
    /// What a commit check (see `CommitCheck`) relied on: the head it read the world at, and
    /// the keys it read or derived. If the branch moved past that head and any of these keys
    /// changed, the check's verdict no longer holds: the commit is a conflict, never a commit
    /// validated against a world that is gone. Derived keys skip the base comparison.
    var checkedAt: ObjectID? = nil
    var checkedKeys: [[UInt8]] = []
    var derivedKeys: Set<[UInt8]> = []
    /// A record committed in the same transaction as this change, or the change fails (see `Companion`).
    var companion: Companion? = nil
}

/// Renders the audit record of a change once its outcome is known, so the record (with the
/// commit id) is written in the same transaction as the commit (DESIGN.md §4).
public typealias AuditHook = @Sendable (CommitOutcome) -> AuditAppend

/// What a commit request came to.
public struct CommitOutcome: Sendable, Codable, Equatable {
    /// The new commit, or nil when the change left the tree as it was (nothing to commit).
    public let commit: ObjectID?
    /// The branch head after the request.
    public let head: ObjectID
    public let branch: String
    public let changed: [String]
    /// Set when a protected branch turned the change into a merge request: `branch` is then the
    /// proposal branch the change was committed to, and this is the request's number.
    public var mergeRequest: Int?

    public var didChange: Bool { commit != nil }

    public init(commit: ObjectID?, head: ObjectID, branch: String, changed: [String]) {
        self.commit = commit
        self.head = head
        self.branch = branch
        self.changed = changed
    }
}

/// Group commit: requests that arrive while a transaction is being made durable wait and then
/// all go into the next transaction, so N writers pay about one fsync per round, not N.
actor CommitQueue {
    private struct Waiter {
        let request: CommitRequest
        let continuation: CheckedContinuation<CommitOutcome, any Error>
    }

    private let storage: any Storage
    private let nodes: NodeCache
    /// Commit-index entries and commits are immutable: keep recent ones, keyed by project and id.
    private var indexCache: [ProjectObject: CommitIndexEntry] = [:]
    private var commitCache: [ProjectObject: Commit] = [:]
    private var waiting: [Waiter] = []
    private var draining = false
    /// Transactions made and requests carried, for benchmarks and metrics.
    private(set) var transactions = 0
    private(set) var requestsCommitted = 0

    /// How often a group is redone after another process moved a branch under it. Every redo
    /// means someone else committed, so the store as a whole progresses; this bounds how long
    /// one unlucky group keeps losing before its writers hear `conflict`.
    static let casAttempts = 40

    init(storage: any Storage, nodes: NodeCache) {
        self.storage = storage
        self.nodes = nodes
    }

    func submit(_ request: CommitRequest) async throws -> CommitOutcome {
        try await withCheckedThrowingContinuation { continuation in
            waiting.append(Waiter(request: request, continuation: continuation))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    func stats() -> (transactions: Int, requests: Int) { (transactions, requestsCommitted) }

    private func drain() async {
        while !waiting.isEmpty {
            let group = waiting
            waiting.removeAll()
            await commitGroup(group)
        }
        draining = false
    }

    /// Operator metrics: durable transactions, how many commits share each, and how long each
    /// took to become durable.
    static let transactionsCounter = Counter(label: "cairn_commit_transactions_total")
    static let groupSize = Recorder(label: "cairn_group_commit_size")
    static let durable = Metrics.Timer(label: "cairn_commit_duration_seconds")

    private func commitGroup(_ group: [Waiter]) async {
        var lastError: (any Error)?
        for attempt in 0..<Self.casAttempts {
            if attempt > 0 {
                // Several servers on one store race for the same branch: back off a random,
                // growing while so the losers stop colliding with each other.
                try? await Task.sleep(for: .microseconds(Int.random(in: 0...(200 << min(attempt, 8)))))
            }
            let overlay = ObjectOverlay()
            var heads: [ProjectObjectBranch: ObjectID] = [:]
            var batch = WriteBatch()
            var results: [Result<CommitOutcome, any Error>] = []
            var companions: [(Companion, CommitOutcome)] = []
            for waiter in group {
                // A request that fails leaves no trace in the group: the heads it moved go back.
                let saved = heads
                do {
                    let prepared = try await prepare(waiter.request, overlay: overlay, heads: &heads)
                    var piece = prepared.batch
                    if let companion = waiter.request.companion {
                        let (record, outcome) = try prepareCompanion(companion, of: prepared)
                        if piece == nil { piece = record } else { piece?.append(record) }
                        companions.append((companion, outcome))
                    }
                    if let piece { batch.append(piece) }
                    results.append(.success(prepared.outcome))
                } catch {
                    heads = saved
                    results.append(.failure(error))
                }
            }
            do {
                let started = DispatchTime.now()
                if !batch.isEmpty { try await storage.apply(batch) }
                transactions += 1
                requestsCommitted += results.count
                Self.groupSize.record(results.count)
                Self.transactionsCounter.increment()
                Self.durable.recordInterval(since: started)
                for (companion, outcome) in companions { companion.markTaken(outcome) }
                for (waiter, result) in zip(group, results) { waiter.continuation.resume(with: result) }
                return
            } catch let error as RefCASFailure {
                // Another process moved a branch between our read and our write: redo the group
                // from the new heads; each request is rebased or found in conflict again.
                lastError = error
                continue
            } catch {
                lastError = error
                break
            }
        }
        let failure: any Error =
            if lastError is RefCASFailure {
                CairnError(.conflict, "the branch kept moving under concurrent writers from other processes; try again")
            } else {
                lastError.map { $0 as? CairnError ?? CairnError(.storage, "the store could not commit: \($0)") }
                    ?? CairnError(.storage, "the store could not commit")
            }
        for waiter in group { waiter.continuation.resume(throwing: failure) }
    }

    private struct Prepared {
        let outcome: CommitOutcome
        let batch: WriteBatch?
        /// Each changed path's blob now (absent: deleted), for a companion's record.
        var blobs: [String: ObjectID] = [:]
    }

    /// The companion's record of a prepared change (and its audit line), to append in its transaction.
    private func prepareCompanion(_ companion: Companion, of change: Prepared) throws -> (WriteBatch, CommitOutcome) {
        var batch = WriteBatch()
        let record = try companion.render(change.outcome, change.blobs)
        batch.runCalls = [record]
        if let audit = companion.audit { batch.audit = [audit(change.outcome, record)] }
        return (batch, change.outcome)
    }

    /// A branch's head as this group sees it: moved by an earlier request of the group, or as stored.
    private func head(project: Int64, branch: String, heads: [ProjectObjectBranch: ObjectID]) async throws -> ObjectID {
        if let known = heads[ProjectObjectBranch(project: project, branch: branch)] { return known }
        guard let stored = try await storage.head(project: project, branch: branch) else {
            throw CairnError(.unknownRef, "no branch '\(branch)'", details: ["branch": branch])
        }
        return stored
    }

    private func prepare(
        _ request: CommitRequest,
        overlay: ObjectOverlay,
        heads: inout [ProjectObjectBranch: ObjectID]
    ) async throws -> Prepared {
        let key = ProjectObjectBranch(project: request.project, branch: request.branch)
        let reader = TreeReader(storage: storage, project: request.project, cache: nodes, overlay: overlay)
        let current = try await head(project: request.project, branch: request.branch, heads: heads)
        let currentCommit = try await loadCommit(current, project: request.project, overlay: overlay)
        // Each edited path's blob at the head, read once: for the rebase check and the path history.
        var before: [ObjectID?] = []
        before.reserveCapacity(request.edits.count)
        for edit in request.edits { before.append(try await reader.lookup(root: currentCommit.tree, key: edit.key)) }
        if let checkedAt = request.checkedAt, checkedAt != current {
            let checkedTree = try await loadCommit(checkedAt, project: request.project, overlay: overlay).tree
            for key in request.checkedKeys {
                let then = try await reader.lookup(root: checkedTree, key: key)
                let now = try await reader.lookup(root: currentCommit.tree, key: key)
                if then != now {
                    let path = String(decoding: key, as: UTF8.self)
                    throw CairnError(
                        .conflict,
                        "'\(path)', which validating this change read, was changed on '\(request.branch)' meanwhile; try again",
                        details: ["path": path, "branch": request.branch, "head": current.hex]
                    )
                }
            }
        }
        if request.base != current {
            let baseCommit = try await loadCommit(request.base, project: request.project, overlay: overlay)
            for (edit, now) in zip(request.edits, before) where !request.derivedKeys.contains(edit.key) {
                let then = try await reader.lookup(root: baseCommit.tree, key: edit.key)
                if then != now {
                    let path = String(decoding: edit.key, as: UTF8.self)
                    throw CairnError(
                        .conflict,
                        "'\(path)' was changed on '\(request.branch)' after \(request.base.short) (now at \(current.short)); read it "
                            + "again and redo the change",
                        details: ["path": path, "branch": request.branch, "base": request.base.hex, "head": current.hex]
                    )
                }
            }
        }
        var editor = TreeEditor(reader: reader)
        let root = try await editor.apply(root: currentCommit.tree, edits: request.edits)
        if root == currentCommit.tree && request.extraParents.isEmpty {
            let outcome = CommitOutcome(commit: nil, head: current, branch: request.branch, changed: [])
            var batch: WriteBatch?
            if let hook = request.audit {
                batch = WriteBatch()
                batch?.audit = [hook(outcome)]
            }
            return Prepared(outcome: outcome, batch: batch)
        }
        let now = max(Clock.nowMillis(), currentCommit.timeMillis)
        let m = request.metadata
        let commit = Commit(
            tree: root,
            parents: [current] + request.extraParents,
            author: m.author,
            onBehalfOf: m.onBehalfOf,
            actorKind: m.actorKind,
            runID: m.runID,
            step: m.step,
            timeMillis: now,
            message: m.message,
            approvals: m.approvals
        )
        let commitBytes = commit.encoded()
        let id = ObjectID.hash(kind: ObjectKind.commit.rawValue, payload: commitBytes)

        let indexOf: (ObjectID) async throws -> CommitIndexEntry = { id in
            if let e = overlay.index(id) { return e }
            if let e = self.indexCache[ProjectObject(project: request.project, id: id)] { return e }
            guard let e = try await self.storage.commitIndex(project: request.project, id: id) else {
                throw CairnError(.corrupt, "commit \(id.short) has no index entry", details: ["object": id.hex])
            }
            self.remember(index: e, project: request.project)
            return e
        }
        let parentEntry = try await indexOf(current)
        let generation = parentEntry.generation + 1
        let skip = try await Ancestry.ancestor(of: parentEntry, atGeneration: Ancestry.skipGeneration(generation), index: indexOf)
        let entry = CommitIndexEntry(id: id, generation: generation, parent: current, skip: skip?.id, timeMillis: now)

        var batch = WriteBatch()
        var changed: [String] = []
        for (edit, before) in zip(request.edits, before) {
            guard before != edit.value else { continue }
            let path = String(decoding: edit.key, as: UTF8.self)
            changed.append(path)
            let kind: ChangeKind = before == nil ? .added : edit.value == nil ? .deleted : .modified
            batch.pathHistory.append(
                (request.project, PathHistoryEntry(path: path, generation: generation, commit: id, change: kind, blob: edit.value))
            )
            if let blobID = edit.value, let bytes = request.blobs[blobID] {
                batch.objects.append((request.project, blobID, StoredObject(kind: .blob, data: bytes)))
            }
        }
        for (nodeID, made) in editor.created {
            batch.objects.append((request.project, nodeID, StoredObject(kind: .tree, data: made.bytes)))
        }
        batch.objects.append((request.project, id, StoredObject(kind: .commit, data: commitBytes)))
        batch.commitIndex.append((request.project, entry))
        batch.refUpdates.append(
            RefUpdate(
                project: request.project,
                branch: request.branch,
                expected: current,
                new: id,
                timeMillis: now,
                principal: m.author,
                reason: request.reason
            )
        )
        overlay.add(nodes: editor.created, commit: (id, commit), index: entry)
        remember(index: entry, project: request.project)
        heads[key] = id
        let outcome = CommitOutcome(commit: id, head: id, branch: request.branch, changed: changed)
        if let hook = request.audit { batch.audit.append(hook(outcome)) }
        var blobsNow: [String: ObjectID] = [:]
        if request.companion != nil {
            for edit in request.edits { if let value = edit.value { blobsNow[String(decoding: edit.key, as: UTF8.self)] = value } }
        }
        return Prepared(outcome: outcome, batch: batch, blobs: blobsNow)
    }

    private func loadCommit(_ id: ObjectID, project: Int64, overlay: ObjectOverlay) async throws -> Commit {
        if let c = overlay.commit(id) { return c }
        let key = ProjectObject(project: project, id: id)
        if let c = commitCache[key] { return c }
        guard let object = try await storage.object(id, project: project), object.kind == .commit else {
            throw CairnError(.unknownRef, "no commit \(id.short) in this project", details: ["ref": id.hex])
        }
        let c = try Commit(decoding: object.data)
        if commitCache.count > 10_000 { commitCache.removeAll(keepingCapacity: true) }
        commitCache[key] = c
        return c
    }

    private func remember(index entry: CommitIndexEntry, project: Int64) {
        if indexCache.count > 100_000 { indexCache.removeAll(keepingCapacity: true) }
        indexCache[ProjectObject(project: project, id: entry.id)] = entry
    }
}

struct ProjectObjectBranch: Hashable {
    let project: Int64
    let branch: String
}
