import CairnCore

/// One problem `verify` found.
public struct VerifyProblem: Sendable, Codable, Equatable {
    public let object: String
    public let kind: String
    public let problem: String
}

/// What verification checked and every problem it found; `ok` when none.
public struct VerifyReport: Sendable, Codable, Equatable {
    public let project: String
    public let objectsChecked: Int
    public let commitsChecked: Int
    public let problems: [VerifyProblem]
    public var ok: Bool { problems.isEmpty }
}

extension Project {
    /// Recomputes every object id, decodes every node and commit, and checks that every tree,
    /// blob, parent and branch head they point to is present, so any altered byte is named.
    public func verify(progress: (@Sendable (Int) -> Void)? = nil) async throws -> VerifyReport {
        var problems: [VerifyProblem] = []
        var kinds: [ObjectID: ObjectKind] = [:]
        var references: [(from: ObjectID, to: ObjectID, expected: ObjectKind)] = []
        var commits: [ObjectID: Commit] = [:]
        var after: ObjectID? = nil
        var checked = 0
        while true {
            let page = try await storage.objectPage(project: id, after: after, limit: 2048)
            for (id, object) in page {
                checked += 1
                kinds[id] = object.kind
                if object.computedID != id {
                    problems.append(
                        VerifyProblem(
                            object: id.hex,
                            kind: object.kind.name,
                            problem: "content does not hash to its id (altered or corrupt)"
                        )
                    )
                    continue
                }
                do {
                    switch object.kind {
                    case .blob:
                        break
                    case .tree:
                        let node = try TreeNode(decoding: object.data)
                        for e in node.entries { references.append((id, e.value, node.level == 0 ? .blob : .tree)) }
                    case .commit:
                        let c = try Commit(decoding: object.data)
                        commits[id] = c
                        references.append((id, c.tree, .tree))
                        for p in c.parents { references.append((id, p, .commit)) }
                    }
                } catch {
                    problems.append(VerifyProblem(object: id.hex, kind: object.kind.name, problem: "does not decode"))
                }
            }
            progress?(checked)
            guard page.count == 2048, let last = page.last else { break }
            after = last.0
        }
        for r in references {
            guard let kind = kinds[r.to] else {
                problems.append(
                    VerifyProblem(object: r.from.hex, kind: "reference", problem: "points to missing \(r.expected.name) \(r.to.hex)")
                )
                continue
            }
            if kind != r.expected {
                problems.append(
                    VerifyProblem(
                        object: r.from.hex,
                        kind: "reference",
                        problem: "points to \(r.to.hex), a \(kind.name), where a \(r.expected.name) belongs"
                    )
                )
            }
        }
        for (id, c) in commits {
            guard let entry = try await storage.commitIndex(project: self.id, id: id) else {
                problems.append(VerifyProblem(object: id.hex, kind: "commit", problem: "has no commit-index entry"))
                continue
            }
            if entry.parent != c.parents.first {
                problems.append(
                    VerifyProblem(
                        object: id.hex,
                        kind: "commit",
                        problem: "index names parent \(entry.parent?.hex ?? "none"), the commit \(c.parents.first?.hex ?? "none")"
                    )
                )
            }
        }
        for branch in try await storage.branches(project: id) where kinds[branch.head] != .commit {
            problems.append(
                VerifyProblem(object: branch.head.hex, kind: "ref", problem: "branch '\(branch.name)' points to a missing commit")
            )
        }
        return VerifyReport(project: record.name, objectsChecked: checked, commitsChecked: commits.count, problems: problems)
    }
}
