import CairnCore
import CairnStore
import Foundation

/// Filters of the audit query API.
public struct AuditQuery: Sendable, Equatable {
    public var actor: String?
    public var action: String?
    public var outcome: String?
    /// Entries whose paths include one matching this glob (or equal to it).
    public var path: String?
    public var sinceMillis: Millis?
    public var untilMillis: Millis?

    public init(
        actor: String? = nil,
        action: String? = nil,
        outcome: String? = nil,
        path: String? = nil,
        sinceMillis: Millis? = nil,
        untilMillis: Millis? = nil
    ) {
        self.actor = actor
        self.action = action
        self.outcome = outcome
        self.path = path
        self.sinceMillis = sinceMillis
        self.untilMillis = untilMillis
    }
}

/// A page of audit entries, with the cursor for the next.
public struct AuditPage: Sendable, Codable {
    public let entries: [AuditItem]
    /// Cursor for the next page; nil only when no later entry exists.
    public let next: String?
}

/// What checking an organization's hash chain found.
public struct AuditVerifyReport: Sendable, Codable, Equatable {
    public let organization: String
    public let entries: Int
    public let ok: Bool
    public let problems: [String]
}

/// Reading, verifying and exporting the audit log. Appending happens only in the Gateway,
/// inside the transactions of the changes recorded.
public enum AuditLog {
    /// An entry as answered to a caller: its record decoded, or nil if the record cannot be read
    /// (verify reports it).
    public static func item(_ e: AuditEntry) -> AuditItem? {
        guard let record = try? JSONDecoder().decode(AuditRecord.self, from: Data(e.body)) else { return nil }
        return AuditItem(seq: e.seq, hash: e.hash.hex, previousHash: e.previousHash.hex, record: record)
    }

    /// One page of matching entries. Filtering by path happens above the backend, so a page may
    /// scan many entries; it never stops early without returning a cursor.
    public static func query(
        _ storage: any Storage,
        organization: Int64,
        _ q: AuditQuery,
        limit: Int,
        cursor: String?
    ) async throws -> AuditPage {
        guard (1...1000).contains(limit) else { throw CairnError(.invalidArgument, "limit must be between 1 and 1000") }
        var after: Int64 = 0
        if let cursor {
            guard let seq = Int64(cursor), seq >= 0 else {
                throw CairnError(.invalidArgument, "invalid cursor '\(cursor)'", details: ["cursor": cursor])
            }
            after = seq
        }
        let glob = try q.path.map { try Glob($0) }
        let filter = AuditFilter(
            actor: q.actor,
            action: q.action,
            outcome: q.outcome,
            sinceMillis: q.sinceMillis,
            untilMillis: q.untilMillis
        )
        var out: [AuditItem] = []
        let batch = glob == nil ? limit + 1 : 500
        while true {
            let rows = try await storage.auditEntries(organization: organization, afterSeq: after, limit: batch, filter: filter)
            for row in rows {
                guard let item = item(row) else {
                    after = row.seq
                    continue
                }
                if let glob {
                    guard (item.record.paths ?? []).contains(where: { glob.matches($0) }) else {
                        after = row.seq
                        continue
                    }
                }
                if out.count == limit { return AuditPage(entries: out, next: String(out.last!.seq)) }
                out.append(item)
                after = row.seq
            }
            if rows.count < batch { return AuditPage(entries: out, next: nil) }
        }
    }

    /// Recomputes every link of the organization's chain, and checks runs' call records against it.
    public static func verify(_ storage: any Storage, organization: OrganizationRecord) async throws -> AuditVerifyReport {
        var previous = AuditChain.genesis
        var expectedSeq: Int64 = 1
        var count = 0
        var problems: [String] = []
        var after: Int64 = 0
        var calls: [String: String] = [:]
        while true {
            let rows = try await storage.auditEntries(organization: organization.id, afterSeq: after, limit: 1000, filter: AuditFilter())
            for e in rows {
                count += 1
                if e.seq != expectedSeq { problems.append("entry \(expectedSeq) is missing (found \(e.seq) next)") }
                if e.previousHash != previous { problems.append("entry \(e.seq) does not link to the entry before it") }
                if AuditChain.hash(previous: e.previousHash, seq: e.seq, body: e.body) != e.hash {
                    problems.append("entry \(e.seq) was altered: its content does not match its hash")
                }
                if let item = item(e) {
                    let r = item.record
                    if r.actor != e.actor || r.action != e.action || r.outcome != e.outcome {
                        problems.append("entry \(e.seq) has index columns that disagree with its content")
                    }
                    if r.action == "agent.run.call", let project = r.project, let d = r.detail, let run = d["run"], let seq = d["seq"],
                        let digest = d["record"]
                    {
                        calls["\(project)/\(run)/\(seq)"] = digest
                    }
                } else {
                    problems.append("entry \(e.seq) is not a readable audit record")
                }
                previous = e.hash
                expectedSeq = e.seq + 1
                after = e.seq
            }
            if rows.count < 1000 { break }
        }
        problems += try await verifyRunCalls(storage, organization: organization.id, lines: calls)
        return AuditVerifyReport(organization: organization.name, entries: count, ok: problems.isEmpty, problems: problems)
    }

    /// One entry as a CloudEvents 1.0 JSON event (one line of a JSON Lines export).
    public static func cloudEvent(_ item: AuditItem) -> [UInt8] {
        struct Event: Encodable {
            let specversion = "1.0"
            let id: String
            let source: String
            let type: String
            let time: String
            let subject: String?
            let datacontenttype = "application/json"
            let data: AuditItem
        }
        let e = Event(
            id: "\(item.record.organization)-\(item.seq)",
            source: "/cairn/orgs/\(item.record.organization)",
            type: "io.cairn.audit.\(item.record.action)",
            time: item.record.time,
            subject: item.record.project,
            data: item
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(e)) ?? Data())
    }
}

extension Gateway {
    /// Reading the audit log needs `configure` on the organization.
    public func audit(_ caller: Caller, query: AuditQuery, limit: Int = 100, cursor: String? = nil) async throws -> AuditPage {
        try await authorize(caller, .configure, .organization, action: "audit.query")
        if let path = query.path { try checkPattern(path) }
        return try await AuditLog.query(storage, organization: caller.organization.id, query, limit: limit, cursor: cursor)
    }
}
