import CairnTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The operator's basics (issue 17, items 18–27): metrics that carry their status and matter,
/// damage reported as damage, bounded memory, structured logs, readiness, the version, TLS,
/// CORS and the API page, each through the surface an operator uses.
@Suite struct OperatorBasicsTests {
    static let api = "/v1/orgs/default"

    static func metrics(_ server: ServerHarness) async throws -> String {
        try await server.request("GET", "/metrics").text
    }

    @Test("/metrics counts each error under its own status, and shows what an operator watches, with HELP lines")
    func metricsCarryStatusAndMatter() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("GET", "\(Self.api)/whoami", token: "cairn_nope").status == 401)
        #expect(try await server.request("GET", "\(Self.api)/projects/none/files/a.json", token: admin).status == 404)
        #expect(try await server.request("POST", "\(Self.api)/projects", token: admin, json: ["name": "city"]).status == 201)
        #expect(try await server.request("POST", "\(Self.api)/projects", token: admin, json: ["name": "city"]).status == 409)
        #expect(
            try await server.request(
                "PUT",
                "\(Self.api)/projects/city/files/a.json",
                token: admin,
                json: ["content": "{}", "message": "m"]
            ).status == 200
        )
        let text = try await Self.metrics(server)
        for status in ["401", "404", "409"] {
            #expect(text.contains("http_response_status_code=\"\(status)\""), "no request counted with status \(status)")
        }
        #expect(
            !text.contains("http_response_status_code=\"500\""),
            "an error was counted as 500:\n\(text.split(separator: "\n").filter { $0.contains("500") }.joined(separator: "\n"))"
        )
        for name in [
            "cairn_node_cache_bytes", "cairn_feed_subscribers", "cairn_mcp_sessions", "cairn_solves_running", "cairn_build_info",
            "cairn_auth_failures_total",
            "cairn_commit_transactions_total", "cairn_commit_duration_seconds", "cairn_group_commit_size", "cairn_decisions_total",
        ] {
            #expect(text.contains("# HELP \(name) "), "no HELP line for \(name)")
        }
        #expect(
            text.contains("cairn_commit_transactions_total") && text.contains("cairn_auth_failures_total{reason=\"malformed_key\"}"),
            "\(text.prefix(3000))"
        )
        let cache = text.split(separator: "\n").first { $0.hasPrefix("cairn_node_cache_bytes ") }.flatMap {
            Double($0.split(separator: " ").last ?? "")
        }
        #expect((cache ?? 0) > 0 && (cache ?? .infinity) <= 64 * 1024 * 1024)
    }

    @Test("cairn verify exits 2 when SQLite finds the damage; a damaged blob answers corrupt, never its altered bytes")
    func damageIsCorrupt() async throws {
        let server = try await ServerHarness()
        let admin = try server.adminToken()
        #expect(try await server.request("POST", "\(Self.api)/projects", token: admin, json: ["name": "city"]).status == 201)
        #expect(
            try await server.request(
                "PUT",
                "\(Self.api)/projects/city/files/a.json",
                token: admin,
                json: ["content": #"{"v":"secret-value"}"#, "message": "m"]
            ).status == 200
        )
        #expect(
            try server.cli.tamper(
                sqlite:
                    "UPDATE object SET data = CAST(replace(CAST(data AS TEXT), 'secret-value', 'tampered-val') AS BLOB) WHERE CAST(data AS TEXT) LIKE '%secret-value%';",
                postgres:
                    "UPDATE object SET data = convert_to(replace(convert_from(data, 'UTF8'), 'secret-value', 'tampered-val'), 'UTF8') WHERE position('secret-value'::bytea in data) > 0;"
            ) == 0
        )
        let read = try await server.request("GET", "\(Self.api)/projects/city/files/a.json?raw=true", token: admin)
        #expect(read.status == 500 && read.errorCode == "corrupt" && !read.text.contains("tampered"), "\(read.status) \(read.text)")

        // A truncated SQLite file: verify names the damage and exits 2.
        guard !TestBackend.isPostgres else { return }
        let cli = try CLIHarness()
        let pad = String(repeating: "x", count: 400)
        let batch = (0..<200).map { #"{"op":"write","path":"f/\#($0).json","content":"{\"i\":\#($0),\"pad\":\"\#(pad)\"}"}"# }
        let file = cli.data.deletingLastPathComponent().appendingPathComponent("batch-\(UUID().uuidString).json")
        try Data(#"{"changes":[\#(batch.joined(separator: ","))]}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let applied = cli.run("apply", file.path, "-m", "200 files")
        #expect(applied.status == 0, "\(applied.stderr)")
        // Everything into the main file first: left in the write-ahead log (when the process did
        // not checkpoint at exit), the 200 files would survive the main file's truncation.
        #expect(try cli.tamper(sqlite: "PRAGMA wal_checkpoint(TRUNCATE);", postgres: "") == 0)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: cli.storePath))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size / 2)
        try handle.close()
        let verify = cli.run("verify")
        #expect(verify.status == 2, "verify exited \(verify.status): \(verify.stdout) \(verify.stderr)")
        #expect((verify.stdout + verify.stderr).contains("corrupt"))
    }

    @Test("one JSON log line per request with its id, route, status and duration, never the token; X-Request-Id echoed")
    func structuredLogs() async throws {
        let server = try await ServerHarness(captureErrors: true)
        let admin = try server.adminToken()
        let r = try await server.request("GET", "\(Self.api)/whoami", token: admin, headers: ["X-Request-Id": "trace-42"])
        #expect(r.status == 200 && r.headers.first { $0.key.lowercased() == "x-request-id" }?.value == "trace-42")
        let generated = try await server.request("GET", "/healthz", headers: ["X-Request-Id": "bad id\nwith newline"])
        let id = generated.headers.first { $0.key.lowercased() == "x-request-id" }?.value ?? ""
        #expect(id.count == 24 && id.allSatisfy(\.isHexDigit), "\(id)")
        let again = try await server.request("GET", "/healthz")
        let other = again.headers.first { $0.key.lowercased() == "x-request-id" }?.value ?? ""
        #expect(other.count == 24 && other.allSatisfy(\.isHexDigit) && other != id, "\(other) after \(id)")
        var line: [String: Any]?
        for _ in 0..<100 {
            line = server.errorOutput.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            .first { $0["request_id"] as? String == "trace-42" }
            if line != nil { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let entry = try #require(line, "no JSON log line for the request:\n\(server.errorOutput.suffix(2000))")
        #expect(entry["status"] as? String == "200" && entry["method"] as? String == "GET" && entry["principal"] as? String == "user:admin")
        #expect(
            (entry["route"] as? String)?.contains("whoami") == true && entry["duration_ms"] != nil && entry["time"] != nil
                && entry["level"] as? String == "info"
        )
        #expect(server.errorOutput.contains("\"message\":\"cairn started\""))
        #expect(!server.errorOutput.contains(admin) && !server.errorOutput.contains(String(admin.suffix(64))), "the token reached the log")
    }

    @Test("/readyz says ready when the store answers; cairn --version prints the version")
    func readinessAndVersion() async throws {
        let server = try await ServerHarness()
        let ready = try await server.request("GET", "/readyz")
        #expect(ready.status == 200 && ready.json["status"] as? String == "ready", "\(ready.text)")
        let version = server.cli.run("--version")
        #expect(version.status == 0 && version.stdout.split(separator: ".").count == 3, "\(version.stdout)")
    }

    @Test("TLS: HTTPS with the given certificate, a renewed one served after SIGHUP")
    func tlsWithReload() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("cert.pem").path
        let key = dir.appendingPathComponent("key.pem").path
        func makeCertificate(_ name: String) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=\(name)",
                "-addext", "subjectAltName=IP:127.0.0.1",
            ]
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        }
        try makeCertificate("first")
        let server = try await ServerHarness(extraArgs: ["--tls-cert", cert, "--tls-key", key])
        #expect(server.base.hasPrefix("https://"))
        let port = Int(server.base.split(separator: ":").last ?? "0") ?? 0
        func served() async throws -> [String: Any] {
            try await PythonReference.run("Tests/CairnCLITests/Support/python/tls_probe.py", ["port": port, "cafile": cert])
        }
        let first = try await served()
        #expect(first["subject"] as? String == "first" && first["status"] as? Int == 200, "\(first)")
        try makeCertificate("second")
        kill(server.process.processIdentifier, SIGHUP)
        var second: [String: Any] = [:]
        for _ in 0..<50 {
            second = try await served()
            if second["subject"] as? String == "second" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(second["subject"] as? String == "second" && second["status"] as? Int == 200, "\(second)")
    }

    @Test("CORS: an allowed origin's preflight is answered; any other origin gets no CORS header")
    func corsAllowList() async throws {
        let server = try await ServerHarness(environment: ["CAIRN_CORS_ORIGINS": "https://console.example"])
        let preflight = try await server.request(
            "OPTIONS",
            "\(Self.api)/whoami",
            headers: [
                "Origin": "https://console.example", "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            ]
        )
        let allow = preflight.headers.first { $0.key.lowercased() == "access-control-allow-origin" }?.value
        #expect([200, 204].contains(preflight.status) && allow == "https://console.example", "\(preflight.status) \(preflight.headers)")
        let other = try await server.request("GET", "/healthz", headers: ["Origin": "https://evil.example"])
        #expect(!other.headers.keys.contains { $0.lowercased().hasPrefix("access-control-") }, "\(other.headers)")
        let unconfigured = try await ServerHarness()
        let none = try await unconfigured.request("GET", "/healthz", headers: ["Origin": "https://console.example"])
        #expect(!none.headers.keys.contains { $0.lowercased().hasPrefix("access-control-") })
    }

    @Test("/v1/docs renders every operation of the OpenAPI document, each with a tag and a summary, and loads nothing from elsewhere")
    func apiPage() async throws {
        let server = try await ServerHarness()
        let page = try await server.request("GET", "/v1/docs")
        #expect(page.status == 200 && (page.headers.first { $0.key.lowercased() == "content-type" }?.value ?? "").contains("text/html"))
        #expect(
            !page.text.contains("<script") && !page.text.contains("http://") && !page.text.contains("https://"),
            "the page loads something"
        )
        let doc = try await server.request("GET", "/v1/openapi.json")
        let paths = doc.json["paths"] as? [String: [String: Any]] ?? [:]
        var operations = 0
        for (_, item) in paths {
            for (method, value) in item where ["get", "put", "post", "patch", "delete"].contains(method) {
                let op = value as? [String: Any] ?? [:]
                operations += 1
                let id = op["operationId"] as? String ?? ""
                #expect(
                    !(op["summary"] as? String ?? "").isEmpty && !(op["tags"] as? [String] ?? []).isEmpty,
                    "\(id) has no summary or tag"
                )
                #expect(page.text.contains("id=\"\(id)\""), "\(id) is not on the page")
            }
        }
        #expect(operations > 60)
    }
}
