import Foundation
import Testing

/// schemathesis (from PyPI) against a live `cairn serve`: generated valid and invalid requests
/// for every operation of `/v1/openapi.json`, checking that no answer is a server error and
/// that every answer (status, content type, body, headers) is the one the document declares.
@Suite("OpenAPI conformance (schemathesis)")
struct ServerConformanceTests {
    /// Runs `st run` and returns its exit status and output.
    static func schemathesis(_ server: ServerHarness, token: String, arguments: [String]) throws -> (Int32, String) {
        let python = URL(fileURLWithPath: try testPython())
        let st = python.deletingLastPathComponent().appendingPathComponent("st")
        guard FileManager.default.fileExists(atPath: st.path) else {
            throw CairnTestError("schemathesis is not installed beside \(python.path): run scripts/test.sh, which installs it")
        }
        let config = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/python/schemathesis.toml")
        let seed = ProcessInfo.processInfo.environment["CAIRN_ST_SEED"] ?? "20261126"
        let process = Process()
        process.executableURL = st
        // schemathesis keeps its example database in the working folder: a fresh one per run.
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        process.currentDirectoryURL = work
        process.arguments =
            [
                "--config-file", config.path, "run", server.base + "/v1/openapi.json", "-H", "Authorization: Bearer \(token)",
                "--max-examples", "15", "--seed", seed, "--no-color", "--request-timeout", "20",
            ] + arguments
        var env = ProcessInfo.processInfo.environment
        env["CAIRN_ST_ORG"] = "default"
        env["SCHEMATHESIS_HOOKS"] = nil
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("every operation: no server error, no answer outside the spec")
    func conformance() async throws {
        // schemathesis sends thousands of requests with bad credentials on purpose: the limit on
        // failed authentications per address (tested in SecurityHardeningTests) is off here, as
        // the per-credential rate limit is for every test server.
        let server = try await ServerHarness(environment: ["CAIRN_AUTH_FAILURES_PER_SECOND": "0"])
        let token = try server.adminToken()
        #expect(try await server.request("POST", "/v1/orgs/default/projects", token: token, json: ["name": "demo"]).status == 201)
        let seeded = try await server.request(
            "PUT",
            "/v1/orgs/default/projects/demo/files/zones/a.json",
            token: token,
            json: ["content": "{\"name\": \"a\", \"n\": 1}\n", "message": "seed"]
        )
        #expect(seeded.status == 200)

        // Revoking a key is run last and alone: its stateful links find the admin key itself.
        let (status, output) = try Self.schemathesis(server, token: token, arguments: ["--exclude-operation-id", "revokeKey"])
        #expect(status == 0, "schemathesis found problems:\n\(output.suffix(6000))")
        // Every operation of the served document, less revokeKey (run below, alone) and the
        // document's own operation, which schemathesis does not test when it loads from that URL.
        let document = try await server.request("GET", "/v1/openapi.json")
        let operations = (document.json["paths"] as? [String: [String: Any]] ?? [:]).values.reduce(0) {
            $0 + $1.keys.filter { $0 != "parameters" }.count
        }
        #expect(operations > 50)
        #expect(output.contains("Tested: \(operations - 2)"), "not every operation was tested:\n\(output.suffix(2000))")

        let (revokeStatus, revokeOutput) = try Self.schemathesis(server, token: token, arguments: ["--include-operation-id", "revokeKey"])
        #expect(revokeStatus == 0, "schemathesis found problems:\n\(revokeOutput.suffix(6000))")

        // The server is still well after thousands of generated requests.
        #expect(try await server.request("GET", "/healthz").status == 200)
    }
}
