import CairnCore
import CairnStore

extension AuditLog {
    /// Runs' call records are rows outside the versioned store, so the audit chain is what makes
    /// them tamper-evident: each call's audit line names its row by number and digest. This
    /// checks both ways for one organization: every row matches the digest its line carries, and
    /// every row has a line (a row removed, altered or added is a problem).
    ///
    /// `lines` maps "project/run/seq" to the digest the audit chain carries for that call.
    static func verifyRunCalls(_ storage: any Storage, organization: Int64, lines: [String: String]) async throws -> [String] {
        var names: [Int64: String] = [:]
        var after: [StoreValue]?
        while true {
            let rows = try await storage.tableRows(.project, after: after, limit: 1000)
            for row in rows {
                if case .integer(let id) = row[0], case .integer(let org) = row[1], case .text(let name) = row[2], org == organization {
                    names[id] = name
                }
            }
            guard rows.count == 1000, let last = rows.last else { break }
            after = Array(last.prefix(StoreTable.project.keyWidth))
        }
        var problems: [String] = []
        var unseen = lines
        after = nil
        while true {
            let rows = try await storage.tableRows(.runCall, after: after, limit: 1000)
            for row in rows {
                guard case .integer(let project) = row[0], let name = names[project] else { continue }
                guard case .text(let run) = row[1], case .integer(let seq) = row[2], case .integer(let time) = row[3],
                    case .bytes(let body) = row[4]
                else {
                    problems.append("a call record of project \(name) is not readable")
                    continue
                }
                let key = "\(name)/\(run)/\(seq)"
                let digest = RunCallRecord(project: project, run: run, seq: seq, timeMillis: time, body: body).digest
                switch unseen.removeValue(forKey: key) {
                case nil: problems.append("call \(seq) of run \(run) in \(name) has no audit record")
                case let expected? where expected != digest:
                    problems.append("call \(seq) of run \(run) in \(name) was altered: it does not match its audit record")
                default: break
                }
            }
            guard rows.count == 1000, let last = rows.last else { break }
            after = Array(last.prefix(StoreTable.runCall.keyWidth))
        }
        for key in unseen.keys.sorted() {
            let parts = key.split(separator: "/", maxSplits: 2).map(String.init)
            problems.append("call \(parts.last ?? "?") of run \(parts.count > 1 ? parts[1] : "?") in \(parts[0]) is missing its record")
        }
        return problems
    }
}
