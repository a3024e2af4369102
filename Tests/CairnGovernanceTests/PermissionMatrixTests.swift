import CairnCore
import CairnGovernance
import CairnStore
import Testing

/// Every default role × every authority × every kind of target, against outcomes written out here.
@Suite struct PermissionMatrixTests {
    /// What each default role may do (DESIGN.md §4), spelled out rather than read from the code.
    static let expected: [String: Set<Authority>] = [
        "viewer": [.read],
        "designer": [.read, .write, .run, .solve],
        "reviewer": [.read, .write, .run, .solve, .approve],
        "admin": [.read, .write, .delete, .run, .solve, .approve, .share, .configure],
    ]

    /// Each kind of target, a request inside it, and a request outside it.
    static let targets: [(kind: String, grant: GrantTarget, inside: AccessTarget, outside: AccessTarget?)] = [
        ("organization", .organization, AccessTarget(project: "alpha", branch: "main", path: "zones/north/a.json"), nil),
        (
            "project", .project("alpha"), AccessTarget(project: "alpha", branch: "main", path: "x.json"),
            AccessTarget(project: "beta", branch: "main", path: "x.json")
        ),
        (
            "branch", .branch(project: "alpha", branch: "main"), AccessTarget(project: "alpha", branch: "main", path: "x.json"),
            AccessTarget(project: "alpha", branch: "dev", path: "x.json")
        ),
        (
            "path", .path(project: "alpha", glob: "zones/north/**"),
            AccessTarget(project: "alpha", branch: "main", path: "zones/north/a.json"),
            AccessTarget(project: "alpha", branch: "main", path: "zones/south/a.json")
        ),
    ]

    @Test func defaultRolesOnEveryKindOfTarget() async throws {
        let f = try await GovernanceFixture()
        let org = try await f.organization("acme")
        let op = f.operatorCaller(org)
        var n = 0
        for (role, allowed) in Self.expected {
            for t in Self.targets {
                n += 1
                let subject = "user:\(role)-\(t.kind)"
                if t.kind == "organization" {
                    _ = try await f.gateway.access.putGrant(op, Grant(id: "g\(n)", subject: subject, role: role, target: .organization))
                } else {
                    // An admin org role is the ceiling; the narrower grant decides inside its target.
                    _ = try await f.gateway.access.putGrant(
                        op,
                        Grant(id: "g\(n)-org", subject: subject, role: "admin", target: .organization)
                    )
                    _ = try await f.gateway.access.putGrant(op, Grant(id: "g\(n)", subject: subject, role: role, target: t.grant))
                }
                for authority in Authority.allCases {
                    let inside = try await f.gateway.access.evaluate(op, subject: subject, authority: authority, target: t.inside)
                    #expect(inside.allowed == allowed.contains(authority), "\(role) on \(t.kind): \(authority) inside → \(inside.reason)")
                    if let outside = t.outside {
                        let d = try await f.gateway.access.evaluate(op, subject: subject, authority: authority, target: outside)
                        #expect(d.allowed, "\(role) on \(t.kind): \(authority) outside the narrower grant falls back to the org role")
                    }
                }
            }
        }
    }

    @Test func customRoleDenyAndCeiling() async throws {
        let f = try await GovernanceFixture()
        let org = try await f.organization("acme")
        let op = f.operatorCaller(org)
        let inAlpha = AccessTarget(project: "alpha", branch: "main", path: "a.json")

        // A custom role: validator = read + solve.
        _ = try await f.gateway.access.putRole(op, Role(name: "validator", authorities: AuthoritySet([.read, .solve])))
        _ = try await f.gateway.access.putGrant(op, Grant(id: "v", subject: "user:val", role: "validator", target: .organization))
        #expect(try await f.gateway.access.evaluate(op, subject: "user:val", authority: .solve, target: inAlpha).allowed)
        #expect(try await f.gateway.access.evaluate(op, subject: "user:val", authority: .read, target: inAlpha).allowed)
        #expect(try await !f.gateway.access.evaluate(op, subject: "user:val", authority: .write, target: inAlpha).allowed)
        #expect(try await !f.gateway.access.evaluate(op, subject: "user:val", authority: .run, target: inAlpha).allowed)

        // An explicit deny wins over an admin grant.
        _ = try await f.gateway.access.putRole(op, Role(name: "no-write", authorities: AuthoritySet([.write])))
        _ = try await f.gateway.access.putGrant(op, Grant(id: "a", subject: "user:ann", role: "admin", target: .organization))
        _ = try await f.gateway.access.putGrant(
            op,
            Grant(id: "a-deny", subject: "user:ann", role: "no-write", target: .project("alpha"), effect: .deny)
        )
        let denied = try await f.gateway.access.evaluate(op, subject: "user:ann", authority: .write, target: inAlpha)
        #expect(!denied.allowed)
        #expect(denied.rule == "grant:a-deny")
        #expect(try await f.gateway.access.evaluate(op, subject: "user:ann", authority: .read, target: inAlpha).allowed)
        #expect(
            try await f.gateway.access.evaluate(
                op,
                subject: "user:ann",
                authority: .write,
                target: AccessTarget(project: "beta", branch: "main", path: "a.json")
            ).allowed
        )

        // A deny given to a group applies to its members.
        _ = try await f.gateway.access.putGrant(
            op,
            Grant(id: "contractors", subject: "group:contractors", role: "no-write", target: .organization, effect: .deny)
        )
        #expect(
            try await !f.gateway.access.evaluate(
                op,
                subject: "user:ann",
                groups: ["contractors"],
                authority: .write,
                target: AccessTarget(project: "beta")
            ).allowed
        )

        // The organization role is the ceiling: a wider project grant cannot raise it.
        _ = try await f.gateway.access.putGrant(op, Grant(id: "b", subject: "user:bob", role: "viewer", target: .organization))
        _ = try await f.gateway.access.putGrant(op, Grant(id: "b-alpha", subject: "user:bob", role: "admin", target: .project("alpha")))
        let capped = try await f.gateway.access.evaluate(op, subject: "user:bob", authority: .write, target: inAlpha)
        #expect(!capped.allowed)
        #expect(capped.rule == "org-ceiling")
        #expect(try await f.gateway.access.evaluate(op, subject: "user:bob", authority: .read, target: inAlpha).allowed)

        // No organization role at all: default deny, whatever else exists.
        _ = try await f.gateway.access.putGrant(op, Grant(id: "c-alpha", subject: "user:cat", role: "admin", target: .project("alpha")))
        let none = try await f.gateway.access.evaluate(op, subject: "user:cat", authority: .read, target: inAlpha)
        #expect(!none.allowed)
        #expect(none.rule == "default-deny")
        #expect(try await !f.gateway.access.evaluate(op, subject: "user:nobody", authority: .read, target: .organization).allowed)
    }

    @Test func accessAtAPastTimeIsAPointInTimeRead() async throws {
        let f = try await GovernanceFixture()
        let org = try await f.organization("acme")
        let op = f.operatorCaller(org)
        _ = try await f.gateway.access.putGrant(op, Grant(id: "d", subject: "user:dan", role: "designer", target: .organization))
        try await Task.sleep(for: .milliseconds(20))
        let before = Clock.nowMillis()
        try await Task.sleep(for: .milliseconds(20))
        try await f.gateway.access.deleteGrant(op, id: "d")
        let target = AccessTarget(project: "alpha", branch: "main", path: "a.json")
        #expect(try await !f.gateway.access.evaluate(op, subject: "user:dan", authority: .write, target: target).allowed)
        let then = try await f.gateway.access.evaluate(op, subject: "user:dan", authority: .write, target: target, atMillis: before)
        #expect(then.allowed)
        let snapshot = try await f.gateway.access.snapshot(op, atMillis: before)
        #expect(snapshot.grants.map(\.id) == ["d"])
        #expect(snapshot.configCommit == then.configCommit)
    }
}
