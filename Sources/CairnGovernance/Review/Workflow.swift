import CairnCore
@_spi(StoreWrites) import CairnStore
import Foundation

/// Where review state lives: a hidden project of each organization, `_workflow`, one JSON file
/// per merge request or queued approval. Every change to review state is a commit there, with
/// its audit record in the same transaction, so review history has the store's guarantees.
/// It is apart from `_system` so that review traffic never invalidates the compiled policy.
package enum Workflow {
    static let project = "_workflow"

    static func mergeRequests(_ project: String) -> String { "merge-requests/\(project)/" }
    static func mergeRequest(_ project: String, _ number: Int) -> String {
        mergeRequests(project) + String(repeating: "0", count: max(0, 8 - String(number).count)) + String(number) + ".json"
    }
    static func counter(_ project: String) -> String { mergeRequests(project) + "next" }
    static let approvals = "approvals/"
    static func approval(_ id: String) -> String { approvals + id + ".json" }

    /// Records are written as configuration files are: sorted, indented JSON.
    package static func encode(_ value: some Encodable) -> [UInt8] {
        Array((try? Gateway.configEncoder.encode(value)) ?? Data())
    }
}

extension Gateway {
    package func workflowProject(_ org: OrganizationRecord) async throws -> Project {
        if let known = workflowProjects.withLock({ $0[org.id] }) { return known }
        let project: Project
        do {
            project = try await repository.project(Workflow.project, organization: org.id)
        } catch let e as CairnError where e.code == .projectNotFound {
            do {
                let record = AuditRecord(
                    organization: org.name,
                    actor: Principal.localOperator.subject,
                    actorKind: "service",
                    action: "workflow.create",
                    outcome: "ok",
                    credential: Principal.localCredential,
                    reason: "review state for \(org.name)"
                )
                _ = try await repository.createProject(
                    name: Workflow.project,
                    organization: org.id,
                    metadata: CommitMetadata(author: Principal.localOperator.subject, message: "review state", actorKind: .service),
                    system: true,
                    audit: { _ in record.append(organization: org.id) }
                )
            } catch let e as CairnError where e.code == .projectExists {}
            project = try await repository.project(Workflow.project, organization: org.id)
        }
        workflowProjects.withLock { $0[org.id] = project }
        return project
    }

    /// A record and the workflow head it was read at (nil: no such file).
    package func workflowRecord<T: Decodable>(_ type: T.Type, _ path: String, in project: Project) async throws -> (T, ObjectID)? {
        let head = try await project.resolve("main").commit
        do {
            let (_, _, bytes) = try await project.readBytes(path, at: head.hex)
            return (try JSONDecoder().decode(T.self, from: Data(bytes)), head)
        } catch let e as CairnError where e.code == .notFound {
            return nil
        }
    }

    /// One page of the records under `prefix` that `keep` accepts, in path order, with a cursor
    /// (the last path taken, less the prefix) whenever any record after the page may remain.
    /// Files are read page after page until `limit` records are kept or none are left, so a
    /// filter never cuts a page short while more remain, and nothing is skipped.
    package func workflowPage<T: Decodable, U>(
        _ org: OrganizationRecord,
        prefix: String,
        limit: Int,
        cursor: String?,
        _ keep: (T) async throws -> U?
    ) async throws -> (items: [U], next: String?) {
        let workflow = try await workflowProject(org)
        let head = try await workflow.resolve("main").commit
        var out: [U] = []
        var after = cursor.map { prefix + $0 }
        var exhausted = false
        while out.count < limit && !exhausted {
            let page = try await workflow.glob(prefix + "*.json", at: head.hex, limit: limit, after: after)
            var consumed = 0
            for path in page.paths {
                consumed += 1
                after = path
                let (_, _, bytes) = try await workflow.readBytes(path, at: head.hex)
                guard let record = try? JSONDecoder().decode(T.self, from: Data(bytes)), let kept = try await keep(record) else { continue }
                out.append(kept)
                if out.count == limit { break }
            }
            exhausted = page.next == nil && consumed == page.paths.count
        }
        return (out, exhausted ? nil : after.map { String($0.dropFirst(prefix.count)) })
    }

    /// Read, change and write workflow records, retried when another change to the same files
    /// landed in between (the write is based on the head read, so nothing is lost).
    package func updateWorkflow<T: Sendable>(
        _ caller: Caller,
        action: String,
        decision: Decision,
        target: AccessTarget,
        detail: [String: String]? = nil,
        _ body: (Project, ObjectID) async throws -> (changes: [FileChange], result: T)
    ) async throws -> (T, CommitOutcome) {
        let workflow = try await workflowProject(caller.organization)
        var attempt = 0
        while true {
            attempt += 1
            let head = try await workflow.resolve("main").commit
            let (changes, result) = try await body(workflow, head)
            // Nothing to change (a compare-and-swap that found the state moved): no commit.
            if changes.isEmpty { return (result, CommitOutcome(commit: nil, head: head, branch: "main", changed: [])) }
            // The audit record names the user project the review is about; the workflow commit
            // that holds the review goes in its detail as `recorded`.
            let base = makeRecord(caller, action: action, outcome: "ok", decision: decision, target: target, paths: nil, detail: detail)
            let org = caller.organization.id
            do {
                let outcome = try await workflow.commit(
                    changes,
                    branch: "main",
                    basedOn: head,
                    metadata: metadata(caller, default: action),
                    audit: { outcome in
                        var record = base
                        record.detail = (record.detail ?? [:]).merging(["recorded": outcome.commit?.hex ?? ""]) { a, _ in a }
                        return record.append(organization: org)
                    }
                )
                return (result, outcome)
            } catch let e as CairnError where e.code == .conflict && attempt < 8 {
                continue
            } catch let e as CairnError {
                await audit(
                    caller,
                    action: action,
                    outcome: "failed",
                    decision: decision,
                    target: target,
                    paths: nil,
                    error: e,
                    detail: detail
                )
                throw e
            }
        }
    }

    func announce(
        _ caller: Caller,
        project: String,
        branch: String,
        action: String,
        commit: String? = nil,
        mergeRequest: Int? = nil,
        approval: String? = nil
    ) {
        feed.publish(
            organization: caller.organization.id,
            ChangeEvent(
                project: project,
                branch: branch,
                commit: commit,
                paths: [],
                actor: caller.principal.subject,
                action: action,
                time: Clock.rfc3339(Clock.nowMillis()),
                mergeRequest: mergeRequest,
                approval: approval
            )
        )
    }
}
