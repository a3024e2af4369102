import CairnCore
import CairnStore
import CairnTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Several `cairn serve` processes on one PostgreSQL store (the PostgreSQL pass only): writes
/// through any server are seen by all at once, concurrent writers never lose an update, overlaps
/// are reported as conflicts, each server's feed carries every server's commits, and a server
/// killed under load loses nothing it acknowledged.
@Suite(.serialized, .enabled(if: TestBackend.isPostgres, "needs the PostgreSQL pass (scripts/test.sh)"))
struct MultiServerTests {
    /// One URLSession with room for every writer at once (the shared one queues after six per host).
    static let session: URLSession = {
        let config = URLSessionConfiguration.ephemeral
        config.httpMaximumConnectionsPerHost = 64
        config.timeoutIntervalForRequest = 60
        return URLSession(configuration: config)
    }()

    struct Reply: Sendable {
        let status: Int
        let json: [String: String]
    }

    static func put(_ server: String, _ path: String, token: String, content: String, basedOn: String?) async throws -> Reply {
        var request = URLRequest(url: URL(string: "\(server)/v1/orgs/default/projects/city/files/\(path)")!)
        request.httpMethod = "PUT"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        var body: [String: String] = ["content": content, "message": "write \(path)"]
        if let basedOn { body["basedOn"] = basedOn }
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let (data, response) = try await session.data(for: request)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        var flat: [String: String] = [:]
        if let commit = object["commit"] as? String { flat["commit"] = commit }
        if let error = object["error"] as? [String: Any], let code = error["code"] as? String { flat["code"] = code }
        return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, json: flat)
    }

    static func read(_ server: ServerHarness, _ path: String, token: String, at ref: String = "main") async throws -> String? {
        let r = try await server.request("GET", "/v1/orgs/default/projects/city/files/\(path)?ref=\(ref)", token: token)
        guard r.status == 200 else { return nil }
        return (r.json["lines"] as? [String])?.joined(separator: "\n")
    }

    static func history(_ cli: CLIHarness) async throws -> Set<String> {
        try await TestBackend.history(try await cli.openStorage(), project: "city")
    }

    static func mainHead(_ server: ServerHarness, token: String) async throws -> String {
        let r = try await server.request("GET", "/v1/orgs/default/projects/city/branches", token: token)
        let branches = r.json["branches"] as? [[String: Any]] ?? []
        return branches.first { $0["name"] as? String == "main" }?["head"] as? String ?? ""
    }

    /// A store with project `city`, and two servers on it.
    static func twoServers() async throws -> (CLIHarness, ServerHarness, ServerHarness, String) {
        let cli = try CLIHarness(project: "city", databaseURL: try TestBackend.freshPostgresURL(pool: 12))
        let a = try await ServerHarness(databaseURL: cli.databaseURL)
        let b = try await ServerHarness(databaseURL: cli.databaseURL)
        return (cli, a, b, try a.adminToken())
    }

    @Test("32 writers over 2 servers: disjoint writes all land, overlapping ones are conflicts, feeds carry both servers' commits")
    func concurrentWritersAcrossServers() async throws {
        let (cli, a, b, token) = try await Self.twoServers()

        // Seen through the other server at once.
        let first = try await Self.put(a.base, "hello.json", token: token, content: "{\"from\": \"a\"}\n", basedOn: nil)
        #expect(first.status == 200)
        #expect(try await Self.read(b, "hello.json", token: token) == "{\"from\": \"a\"}")

        // Disjoint: 32 writers, half through each server, 4 writes each to a path of their own,
        // all based on the same (soon stale) head: each is rebased, none is lost.
        let base = try await Self.mainHead(a, token: token)
        var disjointAcks: [Ack] = []
        let servers = [a.base, b.base]
        var feedText = ""
        feedText = try await ServerFeedAndLimitsTests.feed(
            b,
            org: "default",
            project: "city",
            token: token,
            until: { text in
                disjointAcks.allSatisfy { text.contains($0.commit) }
            }
        ) {
            disjointAcks = try await withThrowingTaskGroup(of: [Ack].self) { group in
                for w in 0..<32 {
                    group.addTask {
                        var acks: [Ack] = []
                        // Each write is based on what the writer last saw: at first the shared
                        // (soon stale) head, then its own last commit, which others have moved past.
                        var seen = base
                        for round in 0..<4 {
                            let r = try await Self.put(
                                servers[w % 2],
                                "disjoint/w\(w).json",
                                token: token,
                                content: "{\"w\": \(w), \"round\": \(round)}\n",
                                basedOn: seen
                            )
                            #expect(r.status == 200, "writer \(w) round \(round): \(r.json)")
                            if let commit = r.json["commit"] {
                                acks.append(Ack(writer: w, commit: commit, path: "disjoint/w\(w).json", content: ""))
                                seen = commit
                            }
                        }
                        return acks
                    }
                }
                var all: [Ack] = []
                for try await part in group { all += part }
                return all
            }
        }
        #expect(disjointAcks.count == 128)
        // Server b's feed announced every commit, the half made through server a included.
        for ack in disjointAcks where ack.writer % 2 == 0 {
            #expect(feedText.contains(ack.commit), "b's feed missed a's commit \(ack.commit)")
        }
        for w in 0..<32 {
            #expect(try await Self.read(w % 2 == 0 ? b : a, "disjoint/w\(w).json", token: token) == "{\"w\": \(w), \"round\": 3}")
        }

        // Overlapping: 32 writers change one path, all from the same head. Exactly one wins;
        // every other is told `conflict` (409), never silently overwritten.
        let shared = try await Self.mainHead(b, token: token)
        let overlapping = try await withThrowingTaskGroup(of: Reply.self) { group in
            for w in 0..<32 {
                group.addTask {
                    try await Self.put(servers[w % 2], "shared.json", token: token, content: "{\"winner\": \(w)}\n", basedOn: shared)
                }
            }
            var all: [Reply] = []
            for try await r in group { all.append(r) }
            return all
        }
        let won = overlapping.filter { $0.status == 200 }
        #expect(won.count == 1, "\(overlapping.map(\.status))")
        #expect(overlapping.filter { $0.status == 409 && $0.json["code"] == "conflict" }.count == 31)
        let winner = try await Self.read(a, "shared.json", token: token)
        #expect(winner != nil && won.count == 1)

        // Every acknowledged commit is in the history; the store verifies clean.
        let history = try await Self.history(cli)
        for ack in disjointAcks + [Ack(writer: -1, commit: won.first?.json["commit"] ?? "", path: "shared.json", content: "")] {
            #expect(history.contains(ack.commit), "acknowledged commit \(ack.commit) is missing")
        }
        let verify = cli.run("verify")
        #expect(verify.status == 0, "verify: \(verify.stdout) \(verify.stderr)")
    }

    @Test("a server killed (SIGKILL) under load: the other keeps serving, and nothing acknowledged is lost")
    func serverKilledUnderLoad() async throws {
        let (cli, a, b, token) = try await Self.twoServers()
        let servers = [a.base, b.base]
        let stop = ManagedAtomicFlag()
        // 8 writers, 4 on each server, writing until told to stop; each records what it was told.
        let load = Task {
            try await withThrowingTaskGroup(of: [Ack].self) { group in
                for w in 0..<8 {
                    group.addTask {
                        var acks: [Ack] = []
                        var i = 0
                        while !stop.isSet {
                            let content = "{\"w\": \(w), \"i\": \(i)}\n"
                            let path = "load/w\(w)/\(i % 20).json"
                            if let r = try? await Self.put(servers[w % 2], path, token: token, content: content, basedOn: nil),
                                r.status == 200,
                                let commit = r.json["commit"]
                            {
                                acks.append(Ack(writer: w, commit: commit, path: path, content: content))
                            } else if w % 2 == 0 {
                                try? await Task.sleep(for: .milliseconds(20))  // its server is gone; keep knocking
                            }
                            i += 1
                        }
                        return acks
                    }
                }
                var all: [Ack] = []
                for try await part in group { all += part }
                return all
            }
        }
        try await Task.sleep(for: .seconds(2))
        kill(a.process.processIdentifier, SIGKILL)
        a.process.waitUntilExit()
        let afterKill = try await Self.mainHead(b, token: token)
        try await Task.sleep(for: .seconds(2))
        // Server b kept committing after a died.
        let later = try await Self.mainHead(b, token: token)
        #expect(later != afterKill, "server b stopped committing when a was killed")
        stop.set()
        let acks = try await load.value
        #expect(acks.count > 50, "too little load to mean anything: \(acks.count) commits")

        // Restart a on the same store: every acknowledged commit is there and reads back.
        let restarted = try await ServerHarness(databaseURL: cli.databaseURL)
        let history = try await Self.history(cli)
        for ack in acks { #expect(history.contains(ack.commit), "acknowledged commit \(ack.commit) was lost") }
        for ack in acks.shuffled().prefix(40) {
            #expect(try await Self.read(restarted, ack.path, token: token, at: ack.commit) == ack.content.trimmingCharacters(in: .newlines))
        }
        let verify = cli.run("verify")
        #expect(verify.status == 0, "verify after the kill: \(verify.stdout) \(verify.stderr)")
    }
}

/// A commit a server acknowledged: who asked, and what it holds.
struct Ack: Sendable {
    let writer: Int
    let commit: String
    let path: String
    let content: String
}

/// A flag the load's tasks poll.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
