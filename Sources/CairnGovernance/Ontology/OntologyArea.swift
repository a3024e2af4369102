import CairnCore
import CairnOntology
import CairnStore
import Foundation
import Metrics
import Synchronization

/// What changing the ontology does to the data already there.
public struct MigrationReport: Sendable, Codable, Equatable {
    /// Entities the new ontology governs.
    public let entities: Int
    /// What would be (or, if accepted, now is) in violation.
    public let violations: [Violation]
    /// Entities that received defaults, with the properties filled in.
    public let defaulted: [String: [String]]
    /// Whether violations were accepted (and so recorded with the change).
    public let accepted: Bool
}

/// Every violation at a ref, for the violations query.
public struct ViolationReport: Sendable, Codable, Equatable {
    public let commit: String
    public let entities: Int
    public let violations: [Violation]
    public let byConstraint: [String: Int]
    /// The next page starts after this path (nil: complete).
    public let next: String?
}

/// Receives the migration report from inside a commit check.
final class ReportBox: Sendable {
    let value = Mutex<MigrationReport?>(nil)
}

/// The ontology area: the "validate" step of the write path (DESIGN.md §4), where every change to
/// a project with an ontology is checked against the ontology of the tree it produces before it
/// is committed, and the ontology's own API (set, check, violations). It keeps the compiled
/// ontologies; setting one goes down the core's write path like any other change.
public struct OntologyArea: Sendable {
    /// The Gateway whose core this area calls.
    let core: Gateway

    /// Compiled ontologies by the hash of their file: compiled once, whichever project shares it.
    final class Caches: Sendable {
        let compiled = Mutex<[String: CompiledOntology]>([:])
    }

    var caches: Caches { core.ontologyCaches }

    static let migrationRecord = ".cairn/ontology-migration.json"

    /// Files Cairn derives and keeps itself: no one writes them directly.
    static func isDerived(_ path: String) -> Bool {
        path.hasPrefix(LinkIndex.root) || path.hasPrefix(SpatialIndex.root) || path == migrationRecord
    }

    /// Compiled once per content: keyed by the file's blob id, so a write that finds the
    /// ontology unchanged needs no read of it.
    func compiled(_ bytes: [UInt8]) throws(CairnError) -> CompiledOntology {
        let key = ObjectID.hash(kind: ObjectKind.blob.rawValue, payload: bytes).hex
        if let known = caches.compiled.withLock({ $0[key] }) { return known }
        let compiled = try CompiledOntology.parse(bytes)
        caches.compiled.withLock {
            if $0.count > 64 { $0.removeAll() }
            $0[key] = compiled
        }
        return compiled
    }

    /// The check every change to a user project passes. Without an ontology it checks nothing;
    /// a change of the ontology validates the whole tree (a migration); any other change only
    /// what it touches and what links to that.
    func commitCheck(acceptViolations: Bool = false, report: ReportBox? = nil) -> CommitCheck {
        { [self] staged in
            // Workflow definitions are configuration checked at the same step (validate).
            try await WorkflowDefinition.check(staged)
            let migrating = staged.changes[Ontology.path] != nil
            guard let blob = try await staged.blob(Ontology.path) else {
                guard migrating else { return CheckResult() }
                // The ontology was removed: its derived index goes with it.
                var writes: [String: [UInt8]?] = [:]
                for marker in try await staged.paths(prefix: LinkIndex.root) + staged.paths(prefix: SpatialIndex.root) {
                    writes[marker] = .some(nil)
                }
                return CheckResult(reads: [Ontology.path], writes: writes)
            }
            let ontology: CompiledOntology
            if let known = caches.compiled.withLock({ $0[blob.hex] }) {
                ontology = known
            } else {
                ontology = try compiled(try await staged.read(Ontology.path) ?? [])
            }
            let outcome =
                migrating
                ? try await OntologyValidation.full(staged, ontology: ontology, derive: true)
                : try await OntologyValidation.incremental(staged, ontology: ontology)
            let violations = outcome.violations.sorted { ($0.path, $0.constraint, $0.pointer) < ($1.path, $1.constraint, $1.pointer) }
            let result = MigrationReport(
                entities: outcome.entities,
                violations: violations,
                defaulted: outcome.defaulted,
                accepted: acceptViolations && !violations.isEmpty
            )
            report?.value.withLock { $0 = result }
            if !violations.isEmpty && !(migrating && acceptViolations) {
                Counter(label: "cairn_validation_failures_total").increment()
                throw CairnError(
                    .validationFailed,
                    migrating
                        ? "the new ontology would leave \(violations.count) violation(s) in existing entities; fix them first, or "
                            + "accept them explicitly"
                        : "the change breaks \(violations.count) rule(s) of the ontology; nothing was written",
                    details: ["violations": String(violations.count)],
                    violations: violations
                )
            }
            var writes = outcome.writes
            if migrating { writes[Self.migrationRecord] = .some(Workflow.encode(result)) }
            // Derived files a broad glob delete swept up stay as the validation left them.
            for (path, content) in staged.changes where content == nil && Self.isDerived(path) && writes[path] == nil {
                writes[path] = .some(try await staged.before(path))
            }
            return CheckResult(reads: outcome.reads.union([Ontology.path]), writes: writes)
        }
    }

    /// Refuses direct writes to the files Cairn derives. A glob delete may match them; the
    /// ontology check then keeps them (see `commitCheck`), so `rm '**'` still works.
    func refuseDerived(_ changes: [FileChange]) throws {
        for change in changes {
            let path: String =
                switch change {
                case .write(let p, _), .edit(let p, _, _, _), .delete(let p): p
                }
            if Self.isDerived(path) {
                throw CairnError(
                    .invalidPath,
                    "'\(path)' is kept by Cairn (the ontology's link and grid indexes and migration record) and cannot be written directly",
                    details: ["path": path]
                )
            }
        }
    }

    // MARK: The ontology's own API

    /// Sets a project's ontology on a branch: validated itself, then against every existing
    /// entity. Violations refuse it unless `acceptViolations`, in which case they are recorded
    /// with the change (`.cairn/ontology-migration.json`) and returned.
    public func put(
        _ caller: Caller,
        project name: String,
        ontology bytes: [UInt8],
        branch: String = "main",
        acceptViolations: Bool = false
    ) async throws -> (CommitOutcome, MigrationReport) {
        _ = try compiled(bytes)
        let box = ReportBox()
        let outcome = try await core.commit(
            caller,
            project: name,
            changes: [.write(path: Ontology.path, content: bytes)],
            branch: branch,
            basedOn: nil,
            action: "ontology.put",
            acceptViolations: acceptViolations,
            report: box
        )
        let report = box.value.withLock { $0 } ?? MigrationReport(entities: 0, violations: [], defaulted: [:], accepted: false)
        return (outcome, report)
    }

    /// What setting this ontology would do, without doing it.
    public func check(
        _ caller: Caller,
        project name: String,
        ontology bytes: [UInt8],
        at ref: String = "main"
    ) async throws -> MigrationReport {
        let (project, _) = try await core.open(caller, name, .read, branch: Gateway.branch(of: ref), action: "ontology.check")
        let ontology = try compiled(bytes)
        let staged = try await project.stage(at: ref, changes: [Ontology.path: .some(bytes)])
        let outcome = try await OntologyValidation.full(staged, ontology: ontology, derive: true)
        return MigrationReport(
            entities: outcome.entities,
            violations: outcome.violations.sorted { ($0.path, $0.constraint, $0.pointer) < ($1.path, $1.constraint, $1.pointer) },
            defaulted: outcome.defaulted,
            accepted: false
        )
    }

    /// Every violation of the project's ontology at `ref`, by path, a page at a time.
    public func violations(
        _ caller: Caller,
        project name: String,
        at ref: String = "main",
        limit: Int = 1000,
        after: String? = nil
    ) async throws -> ViolationReport {
        guard (1...100_000).contains(limit) else { throw CairnError(.invalidArgument, "limit must be 1 to 100000") }
        let (project, _) = try await core.open(caller, name, .read, branch: Gateway.branch(of: ref), action: "ontology.violations")
        let staged = try await project.stage(at: ref)
        guard let bytes = try await staged.read(Ontology.path) else {
            return ViolationReport(commit: staged.head.hex, entities: 0, violations: [], byConstraint: [:], next: nil)
        }
        let outcome = try await OntologyValidation.full(staged, ontology: try compiled(bytes), derive: false)
        let visible = Set(
            try await core.readable(
                caller,
                project: name,
                branch: Gateway.branch(of: ref),
                paths: Array(Set(outcome.violations.map(\.path)))
            )
        )
        let all = outcome.violations.filter { visible.contains($0.path) && (after == nil || $0.path > after!) }
            .sorted { ($0.path, $0.constraint, $0.pointer) < ($1.path, $1.constraint, $1.pointer) }
        // A page ends at a path boundary, so one entity's violations are never split.
        var page: [Violation] = []
        var next: String?
        for v in all {
            if page.count >= limit, v.path != page.last?.path {
                next = page.last?.path
                break
            }
            page.append(v)
        }
        var byConstraint: [String: Int] = [:]
        for v in outcome.violations where visible.contains(v.path) { byConstraint[v.constraint, default: 0] += 1 }
        return ViolationReport(
            commit: staged.head.hex,
            entities: outcome.entities,
            violations: page,
            byConstraint: byConstraint,
            next: next
        )
    }
}

extension Gateway {
    /// The ontology: its check on every write, and its own API (see `OntologyArea`).
    public var ontology: OntologyArea { OntologyArea(core: self) }
}
