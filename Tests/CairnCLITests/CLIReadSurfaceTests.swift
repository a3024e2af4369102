import Foundation
import Testing

/// The command line's reads take the Gateway's path, as the HTTP API's do: the same answers, the
/// same refusals, and listings whose cursors one surface gives and the other continues.
@Suite struct CLIReadSurfaceTests {
    static let project = "/v1/orgs/default/projects/city"

    static func setUp() async throws -> (ServerHarness, admin: String) {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: admin, json: ["name": "city"]).status == 201)
        for i in 1...5 {
            #expect(server.cli.run("write", "poles/\(i).json", "-p", "city", "--content", #"{"h":\#(i)}"#, "-m", "pole \(i)").status == 0)
        }
        return (server, admin)
    }

    @Test("a glob page's cursor from `cairn glob` continues over HTTP, and one from HTTP continues on the command line")
    func globCursorsCrossSurfaces() async throws {
        let (server, admin) = try await Self.setUp()
        let first = server.cli.json("glob", "poles/**", "-p", "city", "--limit", "2") as? [String: Any] ?? [:]
        #expect(first["paths"] as? [String] == ["poles/1.json", "poles/2.json"], "\(first)")
        let cursor = try #require(first["next"] as? String)
        let rest = try await server.request("GET", Self.project + "/glob?pattern=poles/**&cursor=\(cursor)", token: admin)
        #expect(rest.status == 200 && rest.json["paths"] as? [String] == ["poles/3.json", "poles/4.json", "poles/5.json"], "\(rest.text)")

        let page = try await server.request("GET", Self.project + "/glob?pattern=poles/**&limit=3", token: admin)
        let next = try #require(page.json["next"] as? String, "\(page.text)")
        let tail = server.cli.json("glob", "poles/**", "-p", "city", "--cursor", next) as? [String: Any] ?? [:]
        #expect(tail["paths"] as? [String] == ["poles/4.json", "poles/5.json"], "\(tail)")
    }

    @Test("the command line reads the system projects no more than the API does: `_system` and `_workflow` are not found")
    func systemProjectsAreNotReadable() async throws {
        let (server, admin) = try await Self.setUp()
        // The access configuration and the run records are there, reached only through their own commands and routes.
        #expect(try await server.request("GET", "/v1/orgs/default/projects/_system/glob?pattern=**", token: admin).status == 404)
        for project in ["_system", "_workflow"] {
            server.cli.fails("project_not_found", "glob", "**", "-p", project)
            server.cli.fails("project_not_found", "log", "-p", project)
            server.cli.fails("project_not_found", "grep", ".", "-p", project)
        }
        let listed = server.cli.json("project", "list") as? [[String: Any]] ?? []
        #expect(listed.compactMap { $0["name"] as? String } == ["city"], "\(listed)")
    }

    @Test("read, grep, log, show, diff and blame answer on the command line as over HTTP")
    func readsAnswerAsOverHTTP() async throws {
        let (server, admin) = try await Self.setUp()
        let read = server.cli.json("read", "poles/3.json", "-p", "city") as? [String: Any] ?? [:]
        let overHTTP = try await server.request("GET", Self.project + "/files/poles/3.json", token: admin)
        #expect(
            read["lines"] as? [String] == overHTTP.json["lines"] as? [String] && read["lines"] as? [String] == [#"{"h":3}"#],
            "\(read) \(overHTTP.text)"
        )
        let grep = server.cli.json("grep", #""h":[24]"#, "-p", "city") as? [String: Any] ?? [:]
        #expect(grep["files"] as? [String] == ["poles/2.json", "poles/4.json"], "\(grep)")
        let log = server.cli.json("log", "-p", "city", "--limit", "2") as? [String: Any] ?? [:]
        let logHTTP = try await server.request("GET", Self.project + "/commits?limit=2", token: admin)
        let ids = (log["commits"] as? [[String: Any]])?.compactMap { ($0["commit"] as? [String: Any])?["id"] as? String }
        let idsHTTP = (logHTTP.json["commits"] as? [[String: Any]])?.compactMap { ($0["commit"] as? [String: Any])?["id"] as? String }
        #expect(ids == idsHTTP && ids?.count == 2, "\(log) \(logHTTP.text)")
        let show = server.cli.json("show", "main", "-p", "city") as? [String: Any] ?? [:]
        #expect((show["files"] as? [[String: Any]])?.compactMap { $0["path"] as? String } == ["poles/5.json"], "\(show)")
        let diff = server.cli.json("diff", "main~2", "main", "-p", "city") as? [String: Any] ?? [:]
        #expect((diff["files"] as? [[String: Any]])?.compactMap { $0["path"] as? String } == ["poles/4.json", "poles/5.json"], "\(diff)")
        let blame = server.cli.json("blame", "poles/1.json", "-p", "city") as? [[String: Any]] ?? []
        #expect(blame.contains { $0["pointer"] as? String == "/h" }, "\(blame)")
        // A cursor no listing gave is refused on both surfaces alike.
        server.cli.fails("invalid_argument", "glob", "poles/**", "-p", "city", "--cursor", "poles/2.json")
        #expect(try await server.request("GET", Self.project + "/glob?pattern=poles/**&cursor=poles/2.json", token: admin).status == 400)
    }
}
