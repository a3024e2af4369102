import CairnCore
import CairnGovernance
import CairnSQLite
import CairnStore
import Foundation
import GRDB
import Testing

@Suite struct GatewayTests {
    /// A world with one project, an admin and a viewer.
    func world() async throws -> (GovernanceFixture, OrganizationRecord, admin: Caller, viewer: Caller) {
        let f = try await GovernanceFixture()
        let org = try await f.organization("acme")
        let op = f.operatorCaller(org)
        _ = try await f.gateway.access.putMember(op, subject: "user:ada", role: "admin")
        _ = try await f.gateway.access.putMember(op, subject: "user:vic", role: "viewer")
        let admin = f.user("ada", in: org)
        let viewer = f.user("vic", in: org)
        _ = try await f.gateway.createProject(admin, name: "net")
        try await f.gateway.write(admin, project: "net", path: "a.json", content: Array("{\"x\":1}\n".utf8))
        return (f, org, admin, viewer)
    }

    @Test func everyDenialIsAuditedAndChangesNothing() async throws {
        let (f, org, _, viewer) = try await world()
        let before = try await f.heads(org)
        let auditBefore = try await f.audit(org).count
        let attempts: [() async throws -> Void] = [
            { try await f.gateway.write(viewer, project: "net", path: "b.json", content: [1]) },
            { try await f.gateway.edit(viewer, project: "net", path: "a.json", old: "1", new: "2") },
            { try await f.gateway.delete(viewer, project: "net", pathOrGlob: "a.json") },
            { try await f.gateway.delete(viewer, project: "net", pathOrGlob: "**") },
            { _ = try await f.gateway.history.createBranch(viewer, project: "net", branch: "dev") },
            { _ = try await f.gateway.history.revert(viewer, project: "net", ref: "main") },
            { _ = try await f.gateway.createProject(viewer, name: "other") },
            { _ = try await f.gateway.access.putGrant(viewer, Grant(id: "x", subject: "user:vic", role: "admin", target: .organization)) },
            { _ = try await f.gateway.access.mintKey(viewer, kind: .user, role: "admin") },
            { _ = try await f.gateway.audit(viewer, query: AuditQuery()) },
        ]
        for attempt in attempts {
            do {
                try await attempt()
                Issue.record("a viewer's change succeeded")
            } catch let e as CairnError {
                #expect(e.code == .permissionDenied, "\(e)")
            }
        }
        #expect(try await f.heads(org) == before)
        let entries = try await f.audit(org)
        let denials = entries.dropFirst(auditBefore).filter { $0.record.outcome == "denied" && $0.record.actor == "user:vic" }
        #expect(denials.count == attempts.count)
        #expect(denials.allSatisfy { $0.record.rule != nil && $0.record.configCommit != nil })
    }

    @Test func anAdministratorCannotTakeConfigureAwayFromThemselves() async throws {
        let (f, org, admin, _) = try await world()
        let before = try await f.heads(org)
        let memberID = AccessArea.memberGrantID("user:ada")
        let lockouts: [() async throws -> Void] = [
            { _ = try await f.gateway.access.putMember(admin, subject: "user:ada", role: "viewer") },
            { try await f.gateway.access.deleteMember(admin, subject: "user:ada") },
            { try await f.gateway.access.deleteGrant(admin, id: memberID) },
            {
                _ = try await f.gateway.access.putGrant(
                    admin,
                    Grant(id: "self-deny", subject: "user:ada", role: "admin", target: .organization, effect: .deny)
                )
            },
            { _ = try await f.gateway.access.putRole(admin, Role(name: "admin", authorities: AuthoritySet([Authority.read]))) },
        ]
        for attempt in lockouts {
            do {
                try await attempt()
                Issue.record("an administrator locked themselves out")
            } catch let e as CairnError {
                #expect(e.code == .conflict, "\(e)")
            }
        }
        #expect(try await f.heads(org) == before)
        // Another administrator may still demote them.
        let op = f.operatorCaller(org)
        _ = try await f.gateway.access.putMember(op, subject: "user:bea", role: "admin")
        _ = try await f.gateway.access.putMember(f.user("bea", in: org), subject: "user:ada", role: "viewer")
        #expect(try await f.gateway.access.members(f.user("bea", in: org)).first { $0.subject == "user:ada" }?.roles == ["viewer"])
    }

    @Test func allowedChangesAreAuditedWithTheirCommitInTheSameTransaction() async throws {
        let (f, org, admin, _) = try await world()
        var caller = admin
        caller.reason = "move the cabinet"
        let out = try await f.gateway.write(caller, project: "net", path: "cab/1.json", content: Array("{}".utf8))
        let last = try #require(try await f.audit(org).last)
        #expect(last.record.action == "file.write")
        #expect(last.record.commit == out.commit?.hex)
        #expect(last.record.paths == ["cab/1.json"])
        #expect(last.record.reason == "move the cabinet")
        let log = try await f.gateway.history.log(admin, project: "net", limit: 1)
        #expect(log.commits.first?.commit.author == "user:ada")
        #expect(log.commits.first?.commit.message == "move the cabinet")
    }

    @Test func projectsAUserMayNotReadAnswerLikeMissingOnes() async throws {
        let (f, org, admin, _) = try await world()
        let op = f.operatorCaller(org)
        _ = try await f.gateway.access.putMember(op, subject: "user:eve", role: "designer")
        _ = try await f.gateway.access.putRole(
            op,
            Role(name: "nothing", authorities: AuthoritySet([.read, .write, .delete, .run, .solve]))
        )
        _ = try await f.gateway.access.putGrant(
            op,
            Grant(id: "eve-net", subject: "user:eve", role: "nothing", target: .project("net"), effect: .deny)
        )
        let eve = f.user("eve", in: org)
        var messages: [String] = []
        for name in ["net", "no-such-project"] {
            do {
                _ = try await f.gateway.read(eve, project: name, path: "a.json")
            } catch let e as CairnError {
                #expect(e.code == .projectNotFound)
                messages.append(e.message.replacingOccurrences(of: name, with: "NAME"))
            }
        }
        #expect(messages.count == 2 && messages[0] == messages[1])
        #expect(try await f.gateway.projects(eve).isEmpty)
        #expect(try await f.gateway.projects(admin).map(\.name) == ["net"])
    }

    @Test func agentsNeedAReasonAndNeverExceedTheirMinter() async throws {
        let (f, org, _, _) = try await world()
        let op = f.operatorCaller(org)
        _ = try await f.gateway.access.putMember(op, subject: "user:des", role: "designer")
        let designer = f.user("des", in: org)
        // Only configure may mint; the operator mints an admin-role agent key on the designer's behalf.
        var key = try await f.gateway.access.mintKey(op, kind: .agent, role: "admin", description: "bot").key
        key.createdBy = "user:des"
        let agent = Caller(
            principal: Principal(
                subject: key.subject,
                kind: .agent,
                credential: "key:\(key.id)",
                key: key,
                onBehalfOf: designer.principal.subject
            ),
            organization: org
        )
        await expectError(.invalidArgument) { try await f.gateway.write(agent, project: "net", path: "bot.json", content: [1]) }
        var why = agent
        why.reason = "add the survey result"
        try await f.gateway.write(why, project: "net", path: "bot.json", content: [1])
        let d = try await f.gateway.access.evaluate(op, subject: key.subject, authority: .configure, target: .organization)
        #expect(!d.allowed)  // the agent subject has no grants of its own
        await expectError(.permissionDenied) { try await f.gateway.access.putMember(why, subject: "user:x", role: "admin") }
        let entries = try await f.audit(org)
        #expect(entries.last?.record.rule == "on-behalf-of:user:des")
    }

    @Test func keysAreHashedAtRestAndRevocationTakesEffectAtOnce() async throws {
        let (f, org, admin, _) = try await world()
        let minted = try await f.gateway.access.mintKey(admin, kind: .service, role: "viewer")
        let caller = try await f.gateway.authenticate(organization: "acme", authorization: "Bearer \(minted.token)")
        #expect(caller.principal.subject == minted.key.subject)
        _ = try await f.gateway.read(caller, project: "net", path: "a.json")
        // Neither the token nor its secret is anywhere in the store: not in the SQLite file,
        // and not in any cell of any table on either backend.
        let secret = String(minted.token.split(separator: "_").last!)
        if let sqlite = f.storage as? SQLiteStorage {
            try sqlite.checkpoint()
            let bytes = try Data(contentsOf: URL(fileURLWithPath: sqlite.path))
            #expect(bytes.range(of: Data(secret.utf8)) == nil)
        }
        #expect(try await !f.storeContains(Array(secret.utf8)))
        #expect(try await f.storeContains(Array(minted.key.id.utf8)), "the search finds what is stored")
        #expect(minted.key.secretHash.isEmpty)

        _ = try await f.gateway.access.revokeKey(admin, id: minted.key.id)
        await expectError(.unauthenticated) {
            try await f.gateway.authenticate(organization: "acme", authorization: "Bearer \(minted.token)")
        }
        await expectError(.unauthenticated) {
            try await f.gateway.authenticate(
                organization: "acme",
                authorization: "Bearer cairn_0000000000000000_" + String(repeating: "0", count: 64)
            )
        }
        await expectError(.unauthenticated) {
            try await f.gateway.authenticate(organization: "nope", authorization: "Bearer \(minted.token)")
        }
        let failures = try await f.audit(org).filter { $0.record.outcome == "unauthenticated" }
        #expect(failures.count == 2)
        #expect(!failures.contains { ($0.record.error ?? "").contains(secret) })
        _ = org
    }

    @Test func alteringOneAuditEntryIsDetected() async throws {
        let (f, org, admin, viewer) = try await world()
        await expectError(.permissionDenied) { try await f.gateway.write(viewer, project: "net", path: "z.json", content: [1]) }
        try await f.gateway.write(admin, project: "net", path: "z.json", content: [2])
        let clean = try await AuditLog.verify(f.storage, organization: org)
        #expect(clean.ok && clean.entries > 5)
        try await f.tamper(
            sqlite: "UPDATE audit SET body = replace(body, 'user:vic', 'user:viv') WHERE org = \(org.id) AND actor = 'user:vic'",
            postgres:
                "UPDATE audit SET body = convert_to(replace(convert_from(body, 'UTF8'), 'user:vic', 'user:viv'), 'UTF8') WHERE org = \(org.id) AND actor = 'user:vic'"
        )
        let report = try await AuditLog.verify(f.storage, organization: org)
        #expect(!report.ok)
        #expect(report.problems.contains { $0.contains("altered") })
    }

    @Test func auditQueryFiltersAndPagesWithoutTruncating() async throws {
        let (f, org, admin, viewer) = try await world()
        for i in 0..<7 {
            try await f.gateway.write(admin, project: "net", path: "p/\(i).json", content: [UInt8(i)])
            await expectError(.permissionDenied) { try await f.gateway.write(viewer, project: "net", path: "p/\(i).json", content: [1]) }
        }
        var seen: [AuditItem] = []
        var cursor: String?
        repeat {
            let page = try await f.gateway.audit(admin, query: AuditQuery(outcome: "denied", path: "p/**"), limit: 3, cursor: cursor)
            #expect(page.entries.count <= 3)
            seen += page.entries
            cursor = page.next
        } while cursor != nil
        #expect(seen.count == 7)
        #expect(Set(seen.map(\.record.actor)) == ["user:vic"])
        let writes = try await f.gateway.audit(admin, query: AuditQuery(actor: "user:ada", action: "file.write"), limit: 100)
        #expect(writes.entries.count == 8)
        _ = org
    }
}
