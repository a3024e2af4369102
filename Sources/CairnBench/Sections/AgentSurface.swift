import CairnCore
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension Bench {
    /// The agent surface: a Read through MCP (streamable HTTP, one session) beside the same
    /// read through the plain HTTP API, and what the run's history costs per call.
    func agentSurface() async throws {
        let calls = quick ? 100 : 500
        report.section(
            "Agents: a Read over MCP beside the same read over the HTTP API, and the history per call",
            "`cairn serve` (release build, rate limit off) holding 1,000 small files; one client on loopback (URLSession), sequential "
                + "requests, \(calls) of each after 20 warm-up requests, medians. Plain: `GET /files/seed/N.json?raw=true` with an agent "
                + "key. MCP: one session at `/v1/mcp` (initialize, then `tools/call` Read of the same files), each call also recorded in "
                + "the run's history (a row of its own with its audit record, durable before the answer). Writes: the same agent's one-file commit as `PUT /files` on an "
                + "unprotected branch, and as an MCP Write in a session forked from it (the commit and its record in one transaction). "
                + "History: the run record's size after the calls, and the growth of the SQLite file over them. The `wrk` rows: the same "
                + "`GET`, `ping` and Read of one file with `wrk` as the client (one keep-alive connection), which costs microseconds "
                + "where URLSession on Linux adds 0.5–1 ms to each request."
        )
        log("agents: starting cairn serve")
        let server = try GovernedServer(folder: root.appendingPathComponent("agent-server"))
        defer { server.stop() }
        try server.setUp()
        let minted = try server.curl(
            "POST",
            "/v1/orgs/default/keys",
            #"{"kind":"agent","subject":"agent:bench","role":"designer","project":"bench"}"#
        )
        let agent = (try JSONSerialization.jsonObject(with: minted) as? [String: Any])?["token"] as? String ?? ""
        let http = URLSession(configuration: .ephemeral)

        func send(
            _ method: String,
            _ path: String,
            _ body: Data? = nil,
            _ headers: [String: String] = [:]
        ) async throws -> (Data, HTTPURLResponse) {
            var request = URLRequest(url: URL(string: server.base + path)!)
            request.httpMethod = method
            request.httpBody = body
            request.setValue("Bearer \(agent)", forHTTPHeaderField: "Authorization")
            for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
            let (data, response) = try await http.data(for: request)
            return (data, response as! HTTPURLResponse)
        }
        var plain: [Double] = []
        for i in 0..<(calls + 20) {
            let t = try await Measure.seconds {
                _ = try await send("GET", "/v1/orgs/default/projects/bench/files/seed/\(i % 1000).json?raw=true")
            }
            if i >= 20 { plain.append(t) }
        }
        let json = ["Content-Type": "application/json", "Accept": "application/json, text/event-stream"]
        let initialize =
            #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#
        let (_, opened) = try await send("POST", "/v1/mcp?project=bench", Data(initialize.utf8), json)
        guard let session = opened.value(forHTTPHeaderField: "Mcp-Session-Id") else {
            report.row("MCP Read", "failed: no session", "", "", "")
            return
        }
        var headers = json
        headers["Mcp-Session-Id"] = session
        headers["Mcp-Protocol-Version"] = "2025-06-18"
        _ = try await send("POST", "/v1/mcp?project=bench", Data(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8), headers)
        // The MCP round trip alone: `ping` reaches the SDK's server and back, no engine work.
        var pings: [Double] = []
        for i in 0..<(calls + 20) {
            let ping = #"{"jsonrpc":"2.0","id":\#(100_000 + i),"method":"ping"}"#
            let t = try await Measure.seconds { _ = try await send("POST", "/v1/mcp?project=bench", Data(ping.utf8), headers) }
            if i >= 20 { pings.append(t) }
        }
        let storeBefore = server.storeBytes()
        var overMCP: [Double] = []
        for i in 0..<(calls + 20) {
            let call =
                #"{"jsonrpc":"2.0","id":\#(i + 1),"method":"tools/call","params":{"name":"Read","arguments":{"path":"seed/\#(i % 1000).json"}}}"#
            var answer = Data()
            let t = try await Measure.seconds { answer = try await send("POST", "/v1/mcp?project=bench", Data(call.utf8), headers).0 }
            let text = String(decoding: answer, as: UTF8.self)
            precondition(text.contains("\"result\"") && !text.contains("\"isError\":true"), "the Read failed: \(text)")
            if i >= 20 { overMCP.append(t) }
        }
        let storeAfter = server.storeBytes()
        // The same with `wrk` as the client (one keep-alive connection): URLSession on Linux
        // adds 0.5–1 ms of its own to each request, which hides what the server does. The
        // same file every time on both sides; each Read a request id of its own.
        let seconds = quick ? 3 : 6
        let leanGet = try server.wrkGet(
            "/v1/orgs/default/projects/bench/files/seed/1.json?raw=true",
            connections: 1,
            seconds: seconds,
            bearer: agent
        )
        let leanPing = try server.wrkPost(
            "/v1/mcp?project=bench",
            bodies: (0..<1000).map { #"{"jsonrpc":"2.0","id":\#(200_000 + $0),"method":"ping"}"# },
            seconds: seconds,
            tag: "mcp-ping",
            bearer: agent,
            headers: headers
        )
        let leanRead = try server.wrkPost(
            "/v1/mcp?project=bench",
            bodies: (0..<1000).map {
                #"{"jsonrpc":"2.0","id":\#(300_000 + $0),"method":"tools/call","params":{"name":"Read","arguments":{"path":"seed/1.json"}}}"#
            },
            seconds: seconds,
            tag: "mcp-read",
            bearer: agent,
            headers: headers
        )
        _ = try await send("DELETE", "/v1/mcp?project=bench", nil, headers)
        let record = try server.curl("GET", "/v1/orgs/default/projects/bench/agent-runs/\(session)", "")
        // wrk cannot read JSON-RPC errors (they come with status 200): the run's record must hold
        // every Read it answered, or the figure is not of Reads.
        let recorded = ((try JSONSerialization.jsonObject(with: record) as? [String: Any])?["calls"] as? [Any])?.count ?? 0
        let expected = calls + 20 + Int(leanRead.rate * Double(seconds) * 0.9)
        precondition(recorded >= expected, "the run recorded \(recorded) calls, fewer than the \(expected) Reads answered")

        // Writes: the same one-file commit by the same agent, as `PUT /files` on an unprotected
        // branch, and as an MCP Write in a session forked from it (its commit and its record in
        // one transaction).
        try server.curl("POST", "/v1/orgs/default/projects/bench/branches", #"{"name":"writes","from":"main"}"#)
        var plainWrites: [Double] = []
        for i in 0..<(calls + 20) {
            let body = #"{"content":"{\"n\":\#(i)}","branch":"writes","message":"bench write"}"#
            var status = 0
            let t = try await Measure.seconds {
                status = try await send(
                    "PUT",
                    "/v1/orgs/default/projects/bench/files/put/\(i).json",
                    Data(body.utf8),
                    ["Content-Type": "application/json"]
                ).1.statusCode
            }
            precondition(status == 200, "the PUT failed: \(status)")
            if i >= 20 { plainWrites.append(t) }
        }
        let (_, writing) = try await send("POST", "/v1/mcp?project=bench&branch=writes", Data(initialize.utf8), json)
        guard let writeSession = writing.value(forHTTPHeaderField: "Mcp-Session-Id") else {
            report.row("MCP Write", "failed: no session", "", "", "")
            return
        }
        headers["Mcp-Session-Id"] = writeSession
        _ = try await send("POST", "/v1/mcp?project=bench", Data(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8), headers)
        var mcpWrites: [Double] = []
        for i in 0..<(calls + 20) {
            let call =
                #"{"jsonrpc":"2.0","id":\#(i + 1),"method":"tools/call","params":{"name":"Write","arguments":{"path":"mcp/\#(i).json","content":"{\"n\":\#(i)}","reason":"bench write"}}}"#
            var answer = Data()
            let t = try await Measure.seconds { answer = try await send("POST", "/v1/mcp?project=bench", Data(call.utf8), headers).0 }
            let text = String(decoding: answer, as: UTF8.self)
            precondition(text.contains("committed") && !text.contains("\"isError\":true"), "the Write failed: \(text)")
            if i >= 20 { mcpWrites.append(t) }
        }
        _ = try await send("DELETE", "/v1/mcp?project=bench", nil, headers)

        let p = Measure.medianOf(plain)
        let m = Measure.medianOf(overMCP)
        let g = Measure.medianOf(pings)
        report.row(
            "MCP `ping` (the SDK's round trip, no engine work)",
            Measure.ms(g),
            "HTTP API `GET /files`",
            Measure.ms(p),
            String(format: "%.2f×", g / p)
        )
        report.row(
            "Read, one file",
            Measure.ms(m) + " (MCP, recorded)",
            "HTTP API `GET /files`",
            Measure.ms(p),
            String(format: "%.1f× (+%.3f ms)", m / p, (m - p) * 1000)
        )
        report.row(
            "MCP `ping`, `wrk` client",
            Measure.ms(leanPing.p50) + (leanPing.errors > 0 ? " (\(leanPing.errors) errors)" : ""),
            "HTTP API `GET /files`, `wrk` client",
            Measure.ms(leanGet.p50),
            String(format: "%.2f×", leanPing.p50 / leanGet.p50)
        )
        report.row(
            "Read, one file, `wrk` client",
            Measure.ms(leanRead.p50) + " (MCP, recorded)" + (leanRead.errors > 0 ? " (\(leanRead.errors) errors)" : ""),
            "HTTP API `GET /files`, `wrk` client",
            Measure.ms(leanGet.p50),
            String(format: "%.1f× (+%.3f ms)", leanRead.p50 / leanGet.p50, (leanRead.p50 - leanGet.p50) * 1000)
        )
        let pw = Measure.medianOf(plainWrites)
        let mw = Measure.medianOf(mcpWrites)
        report.row(
            "Write, one file",
            Measure.ms(mw) + " (MCP, recorded)",
            "HTTP API `PUT /files`",
            Measure.ms(pw),
            String(format: "%.2f× (+%.3f ms)", mw / pw, (mw - pw) * 1000)
        )
        report.row(
            "run history per call: the run record",
            "\(record.count / max(1, recorded)) bytes/call (\(record.count) bytes for \(recorded) calls)",
            "",
            "",
            ""
        )
        report.row(
            "run history per call: SQLite growth (log checkpointed)",
            "\((storeAfter - storeBefore) / (calls + 20)) bytes/call",
            "",
            "",
            ""
        )
    }
}
