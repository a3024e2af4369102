import Foundation
import Testing

/// The change feed (server-sent events, read by curl as any client would) and the limits that
/// protect the server: body size, per-credential rate, and the timeout on long reads.
@Suite(.serialized) struct ServerFeedAndLimitsTests {
    /// Reads a feed with `curl -N` while `during` runs, then until `until` holds of what it
    /// printed (at most 30 s); returns that text.
    static func feed(
        _ server: ServerHarness,
        org: String,
        project: String,
        token: String,
        until: (String) -> Bool,
        during: () async throws -> Void
    ) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "curl", "-sN", "--max-time", "300", "-H", "Authorization: Bearer \(token)",
            "\(server.base)/v1/orgs/\(org)/projects/\(project)/events",
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let box = OutputBox()
        out.fileHandleForReading.readabilityHandler = { box.append(String(decoding: $0.availableData, as: UTF8.self)) }
        try process.run()
        for _ in 0..<600 where !box.text.contains("event: ready") { try await Task.sleep(for: .milliseconds(50)) }
        try await during()
        for _ in 0..<600 where !until(box.text) { try await Task.sleep(for: .milliseconds(50)) }
        // What was read so far is the answer: stop curl at once rather than wait for its pipe
        // to drain (which lasted until curl's own 60 s limit).
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        out.fileHandleForReading.readabilityHandler = nil
        return box.text
    }

    static func events(_ text: String, named name: String) -> [[String: Any]] {
        text.components(separatedBy: "\n\n").compactMap { block in
            let lines = block.split(separator: "\n")
            guard lines.contains("event: \(name)"), let data = lines.first(where: { $0.hasPrefix("data: ") }) else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(data.dropFirst(6).utf8)) as? [String: Any]
        }
    }

    @Test("the feed starts with the heads, carries each commit once, beats when idle, and never another organization's changes")
    func changeFeed() async throws {
        let server = try await ServerHarness(environment: ["CAIRN_FEED_HEARTBEAT_SECONDS": "0.5"])
        #expect(server.cli.run(["admin", "org-create", "other"]).status == 0)
        let mine = try server.adminToken()
        let theirs = try server.adminToken(org: "other")
        for (org, token) in [("default", mine), ("other", theirs)] {
            #expect(try await server.request("POST", "/v1/orgs/\(org)/projects", token: token, json: ["name": "grid"]).status == 201)
        }
        var myCommits: [String] = []
        let text = try await Self.feed(
            server,
            org: "default",
            project: "grid",
            token: mine,
            until: { $0.contains("plan-b") && $0.components(separatedBy: "plan-b").last!.contains(": heartbeat") }
        ) {
            for i in 0..<3 {
                let r = try await server.request(
                    "PUT",
                    "/v1/orgs/default/projects/grid/files/pipes/\(i).json",
                    token: mine,
                    json: ["content": "{\"i\": \(i)}\n", "message": "pipe \(i)"]
                )
                myCommits.append(r.json["commit"] as? String ?? "")
                // The other organization's project has the same name and changes at the same time.
                _ = try await server.request(
                    "PUT",
                    "/v1/orgs/other/projects/grid/files/SECRET-\(i).json",
                    token: theirs,
                    json: ["content": "{\"leak\": true}\n", "message": "SECRET"]
                )
            }
            _ = try await server.request("POST", "/v1/orgs/default/projects/grid/branches", token: mine, json: ["name": "plan-b"])
        }
        let ready = Self.events(text, named: "ready")
        #expect(ready.count == 1)
        #expect((ready.first?["branches"] as? [[String: Any]])?.map { $0["name"] as? String } == ["main"])
        let changes = Self.events(text, named: "change")
        #expect(changes.compactMap { $0["commit"] as? String }.prefix(3) == myCommits[...])
        #expect(changes.first?["paths"] as? [String] == ["pipes/0.json"])
        #expect(changes.first?["actor"] as? String == "user:admin")
        #expect(changes.contains { $0["branch"] as? String == "plan-b" })
        #expect(!text.contains("SECRET") && !text.contains("other"), "a foreign change reached the feed: \(text)")
        #expect(text.contains(": heartbeat"), "an idle feed sends heartbeats")

        // A feed is read access: no token, or a project of another organization, is refused.
        #expect(try await server.request("GET", "/v1/orgs/default/projects/grid/events").status == 401)
        #expect(try await server.request("GET", "/v1/orgs/other/projects/grid/events", token: mine).status == 401)
    }

    @Test("a body over the cap is 413 and writes nothing")
    func bodyCap() async throws {
        let server = try await ServerHarness(environment: ["CAIRN_MAX_BODY_BYTES": "2000"])
        let token = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: token, json: ["name": "p"]).status == 201)
        let big = try await server.request(
            "PUT",
            "/v1/orgs/default/projects/p/files/big.json",
            token: token,
            json: ["content": String(repeating: "x", count: 5000)]
        )
        #expect(big.status == 413)
        #expect(big.errorCode == "payload_too_large")
        #expect(try await server.request("GET", "/v1/orgs/default/projects/p/files/big.json", token: token).status == 404)
        let small = try await server.request("PUT", "/v1/orgs/default/projects/p/files/small.json", token: token, json: ["content": "{}"])
        #expect(small.status == 200)
    }

    @Test("a credential over its rate gets 429 with Retry-After; another credential is unaffected")
    func rateLimit() async throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-rate-\(UUID().uuidString).json")
        // One new request every 20 s after a burst of 3: the five requests below fit well inside
        // that on a loaded machine (at 0.5/s, a slow run once refilled a token before the fifth).
        try Data(#"{"requestsPerSecond": 0.05, "burst": 3}"#.utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        // The harness passes --rate-limit 0 first; this config must come from the file alone.
        let server = try await ServerHarness(extraArgs: ["--config", config.path], omitRateLimit: true)
        let a = try server.adminToken()
        let b = try server.adminToken()
        var statuses: [Int] = []
        var limited: ServerHarness.Reply?
        for _ in 0..<5 {
            let r = try await server.request("GET", "/v1/orgs/default/whoami", token: a)
            statuses.append(r.status)
            if r.status == 429 { limited = r }
        }
        #expect(statuses == [200, 200, 200, 429, 429])
        #expect(limited?.errorCode == "rate_limited")
        #expect(limited.flatMap { Int($0.headers["Retry-After"] ?? "") }.map { $0 >= 1 } == true)
        #expect(try await server.request("GET", "/v1/orgs/default/whoami", token: b).status == 200)
    }

    @Test("a long read over the timeout is 503 timeout, and the server goes on")
    func timeout() async throws {
        let server = try await ServerHarness(environment: ["CAIRN_REQUEST_TIMEOUT": "0.002"])
        let token = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: token, json: ["name": "p"]).status == 201)
        let changes = (0..<2000).map {
            ["op": "write", "path": "f/\($0).json", "content": "{\"n\": \($0), \"text\": \"lorem ipsum dolor\"}\n"]
        }
        #expect(
            try await server.request(
                "POST",
                "/v1/orgs/default/projects/p/commits",
                token: token,
                json: ["changes": changes, "message": "many"]
            ).status == 200
        )
        let slow = try await server.request("GET", "/v1/orgs/default/projects/p/grep?pattern=l(o|a)rem%5Cs%2Bips&mode=count", token: token)
        #expect(slow.status == 503)
        #expect(slow.errorCode == "timeout")
        #expect(try await server.request("GET", "/v1/orgs/default/projects/p/files/f/1.json", token: token).status == 200)
    }
}
