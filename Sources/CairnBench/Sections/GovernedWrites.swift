import CairnCore
import CairnGovernance
import CairnSQLite
@_spi(StoreWrites) import CairnStore
import Foundation

extension Bench {
    /// Governed writes over HTTP (authentication, authorization, commit, audit, feed) against the
    /// same one-file commits made straight on the store, in the same run on the same disk.
    func governedWrites() async throws {
        guard Shell.has("wrk") else {
            report.note("Governed writes: skipped, `wrk` is not installed (scripts/bench.sh installs it).")
            return
        }
        let seconds = quick ? 3 : 10
        let storeOps1 = quick ? 300 : 1000
        let storeOps32 = quick ? 3200 : 9600
        report.section(
            "Governed writes: HTTP + authentication + authorization + commit + audit, against the store alone",
            "Each operation writes one small JSON file as one durable commit (SQLite WAL, synchronous=FULL, group commit) in a project "
                + "that already holds 1,000 files. Governed: `cairn serve` (release build, rate limit off) driven by wrk on loopback for "
                + "\(seconds) s per row (`PUT /v1/orgs/default/projects/bench/files/...` with an admin API key; each request is "
                + "authenticated, authorized, committed with its audit entry in the same transaction, and announced on the feed). "
                + "Store alone: `Project.write` in this process, \(storeOps1) sequential writes or \(storeOps32) from 32 concurrent tasks. "
                + "Gateway in process: the same write through `Gateway.authenticate` (the API key) and `Gateway.write` (authorize, commit, "
                + "audit, feed) without HTTP, \(storeOps1) sequential calls. "
                + "Both on the same disk, one after the other. Latencies are per request (wrk's percentiles; per call in process)."
        )

        // Store alone.
        let (_, repo) = try freshStore("governed-store")
        let p = try await makeProject(repo, "bench")
        try await p.commit((0..<1000).map { .write(path: "seed/\($0).json", content: Array("{\"id\":\($0)}".utf8)) }, metadata: Self.meta)
        func storeRun(writers: Int, total: Int) async throws -> (rate: Double, p50: Double, p99: Double) {
            var latencies: [Double] = []
            let elapsed = try await Measure.seconds {
                latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                    for w in 0..<writers {
                        group.addTask {
                            var mine: [Double] = []
                            for i in 0..<(total / writers) {
                                mine.append(
                                    try await Measure.seconds {
                                        try await p.write(
                                            "w/\(writers)-\(w)-\(i % 50).json",
                                            Array("{\"v\":\(i)}".utf8),
                                            metadata: Self.meta
                                        )
                                    }
                                )
                            }
                            return mine
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
            }
            return (Double(latencies.count) / elapsed, Self.percentile(latencies, 0.5), Self.percentile(latencies, 0.99))
        }
        log("governed: store alone")
        let store1 = try await storeRun(writers: 1, total: storeOps1)
        let store32 = try await storeRun(writers: 32, total: storeOps32)

        // The Gateway in process, without HTTP: authenticate the key, authorize, commit, audit.
        let (_, govRepo) = try freshStore("governed-inprocess")
        let gateway = Gateway(repository: govRepo, limits: GatewayLimits(requestsPerSecond: 0, burst: 0))
        let (org, _) = try await Tenancy.ensure("bench", repository: govRepo)
        let op = try await gateway.localCaller(organization: org, name: "bench", reason: "set-up")
        let minted = try await gateway.access.mintKey(op, kind: .user, subject: "user:bench", role: "admin")
        _ = try await gateway.access.putMember(op, subject: "user:bench", role: "admin")
        _ = try await gateway.createProject(op, name: "bench")
        try await gateway.commit(
            op,
            project: "bench",
            changes: (0..<1000).map { .write(path: "seed/\($0).json", content: Array("{\"id\":\($0)}".utf8)) }
        )
        var inProcess: [Double] = []
        let inProcessElapsed = try await Measure.seconds {
            for i in 0..<storeOps1 {
                inProcess.append(
                    try await Measure.seconds {
                        var caller = try await gateway.authenticate(organization: "bench", authorization: "Bearer \(minted.token)")
                        caller.reason = "bench"
                        try await gateway.write(caller, project: "bench", path: "w/g-\(i % 50).json", content: Array("{\"v\":\(i)}".utf8))
                    }
                )
            }
        }
        let gateway1 = (
            rate: Double(inProcess.count) / inProcessElapsed, p50: Self.percentile(inProcess, 0.5), p99: Self.percentile(inProcess, 0.99)
        )

        // Governed, through a real server.
        log("governed: starting cairn serve")
        let server = try GovernedServer(folder: root.appendingPathComponent("governed-server"))
        defer { server.stop() }
        try server.setUp()
        let gov1 = try server.wrk(connections: 1, threads: 1, seconds: seconds)
        let gov32 = try server.wrk(connections: 32, threads: 2, seconds: seconds)

        report.row(
            "1 caller, Gateway in process (no HTTP): writes per second",
            Measure.rate(gateway1.rate),
            "store alone",
            Measure.rate(store1.rate),
            Measure.ratio(store1.rate / gateway1.rate) + " cost"
        )
        report.row(
            "1 caller, Gateway in process (no HTTP): p50 latency",
            Measure.ms(gateway1.p50),
            "store alone",
            Measure.ms(store1.p50),
            Measure.ratio(gateway1.p50 / store1.p50)
        )
        for (label, store, gov) in [("1 client", store1, gov1), ("32 clients", store32, gov32)] {
            report.row(
                "\(label): writes per second",
                Measure.rate(gov.rate),
                "store alone",
                Measure.rate(store.rate),
                Measure.ratio(store.rate / gov.rate) + " cost"
            )
            report.row(
                "\(label): p50 latency",
                Measure.ms(gov.p50),
                "store alone",
                Measure.ms(store.p50),
                Measure.ratio(gov.p50 / store.p50)
            )
            report.row(
                "\(label): p99 latency",
                Measure.ms(gov.p99),
                "store alone",
                Measure.ms(store.p99),
                Measure.ratio(gov.p99 / store.p99)
            )
        }
        if gov1.errors + gov32.errors > 0 {
            report.note("wrk saw \(gov1.errors + gov32.errors) non-2xx answers or socket errors: the figures above are not clean.")
        }
        let audit = try server.auditCount()
        report.note(
            "The server's audit log held \(audit) entries afterwards (one per governed write, plus set-up), and `cairn verify` "
                + "\(try server.verify() ? "passed" : "FAILED") on it."
        )
    }

    static func percentile(_ xs: [Double], _ q: Double) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return .nan }
        return s[min(s.count - 1, Int((Double(s.count - 1) * q).rounded()))]
    }

    /// Time of one authorization decision with 10,000 grants in the policy, in process.
    func authorizationDecisions() async throws {
        let users = 2500
        let projects = 100
        report.section(
            "Authorization decision with 10,000 grants",
            "A policy of \(users) users × 4 grants (organization role; a project; a branch; a path glob) over \(projects) projects, "
                + "plus the default roles. A decision: principal (user with 2 groups), authority, target (project, branch, path) → allow or "
                + "deny, the deciding rule and the configuration commit. Cairn: `Policy.decide`, batches of 1,000 decisions over varied "
                + "users and targets, per-decision time = batch time / 1,000; p50 and p99 over 1,000 batches. Peer: the same question "
                + "answered by scanning every grant (no index), in the same process, same data."
        )
        var grants: [Grant] = []
        for u in 0..<users {
            let project = "p\(u % projects)"
            grants.append(Grant(id: "m\(u)", subject: "user:u\(u)", role: u % 10 == 0 ? "admin" : "designer", target: .organization))
            grants.append(Grant(id: "p\(u)", subject: "user:u\(u)", role: "designer", target: .project(project)))
            grants.append(Grant(id: "b\(u)", subject: "user:u\(u)", role: "viewer", target: .branch(project: project, branch: "release")))
            grants.append(
                Grant(id: "g\(u)", subject: "user:u\(u)", role: "viewer", target: .path(project: project, glob: "zones/\(u % 7)/**"))
            )
        }
        var roles: [String: Role] = [:]
        for r in Role.defaults { roles[r.name] = r }
        let config = AccessConfig(commit: ObjectID(w0: 1, w1: 2, w2: 3, w3: 4), roles: roles, grants: grants, keys: [:], identity: nil)
        let policy = Policy(config)
        let principals = (0..<256).map {
            Principal(subject: "user:u\(($0 * 37) % users)", kind: .user, groups: ["group:a", "group:b"], credential: "bench")
        }
        let targets = (0..<64).map { i in
            AccessTarget(project: "p\(i % projects)", branch: i % 3 == 0 ? "release" : "main", path: "zones/\(i % 9)/f\(i).json")
        }
        let authorities: [Authority] = [.read, .write, .delete]

        var allowed = 0
        var samples: [Double] = []
        for batch in 0..<1000 {
            let t = await Measure.seconds {
                for i in 0..<1000 {
                    let k = batch &* 1000 &+ i
                    let d = policy.decide(principals[k % principals.count], authorities[k % 3], targets[(k / 7) % targets.count])
                    if d.allowed { allowed += 1 }
                }
            }
            samples.append(t / 1000)
        }
        // Peer: the same decisions without the per-subject index (every grant examined).
        var naiveSamples: [Double] = []
        var naiveAllowed = 0
        for batch in 0..<20 {
            let t = await Measure.seconds {
                for i in 0..<100 {
                    let k = batch &* 1000 &+ i
                    if Self.scanDecide(
                        grants,
                        roles,
                        principals[k % principals.count],
                        authorities[k % 3],
                        targets[(k / 7) % targets.count]
                    ) {
                        naiveAllowed += 1
                    }
                }
            }
            naiveSamples.append(t / 100)
        }
        let p50 = Measure.medianOf(samples)
        let p99 = Self.percentile(samples, 0.99)
        let naive = Measure.medianOf(naiveSamples)
        report.row(
            "decision, p50",
            String(format: "%.2f µs", p50 * 1e6),
            "scan of all grants",
            String(format: "%.1f µs", naive * 1e6),
            String(format: "%.0f× faster", naive / p50)
        )
        report.row("decision, p99 (of batch means)", String(format: "%.2f µs", p99 * 1e6), "", "", "")
        report.note(
            "\(allowed) of 1,000,000 decisions allowed (the scan allowed \(naiveAllowed) of its 2,000; it is a timing peer, not the "
                + "same rules)."
        )
    }

    /// The peer: examine every grant for every question.
    static func scanDecide(_ grants: [Grant], _ roles: [String: Role], _ p: Principal, _ a: Authority, _ t: AccessTarget) -> Bool {
        let subjects = Set([p.subject] + p.groups)
        var orgAllows = false
        var best = -1
        var bestAllows = false
        for g in grants where subjects.contains(g.subject) {
            let has = roles[g.role]?.authorities.contains(a) ?? false
            let level: Int
            switch g.target {
            case .organization: level = 0
            case .project(let proj):
                guard proj == t.project else { continue }
                level = 1
            case .branch(let proj, let b):
                guard proj == t.project, b == t.branch else { continue }
                level = 2
            case .path(let proj, let glob):
                guard proj == t.project, let path = t.path, (try? Glob(glob))?.matches(path) == true else { continue }
                level = 3
            }
            if g.effect == .deny && has { return false }
            if level == 0 { orgAllows = orgAllows || has }
            if level > best {
                best = level
                bestAllows = has
            } else if level == best {
                bestAllows = bestAllows || has
            }
        }
        return orgAllows && bestAllows
    }
}

/// A `cairn serve` child process for the benchmark, with its own data folder.
final class GovernedServer: @unchecked Sendable {
    let folder: URL
    let process = Process()
    let cairn: String
    private(set) var base = ""
    private(set) var token = ""

    /// A PostgreSQL store (else SQLite in the folder); several servers may share one.
    let databaseURL: String?

    init(folder: URL, databaseURL: String? = nil) throws {
        self.folder = folder
        self.databaseURL = databaseURL
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        cairn = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cairn").path
    }

    /// How a `cairn` command names this server's store.
    var storeArgs: [String] {
        databaseURL.map { ["--database-url", $0] } ?? ["--data", folder.appendingPathComponent("data").path]
    }

    /// Starts the server; with `seed`, mints a key and makes project `bench` with 1,000 files,
    /// else uses `token` (a second server on a store the first set up).
    func setUp(seed: Bool = true, token given: String? = nil) throws {
        let data = folder.appendingPathComponent("data").path
        process.executableURL = URL(fileURLWithPath: cairn)
        process.arguments =
            ["serve", "--data", data, "--port", "0", "--rate-limit", "0"] + (databaseURL.map { ["--database-url", $0] } ?? [])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen = ""
        while !seen.contains("cairn listening on http://") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { throw CairnError(.storage, "cairn serve stopped: \(seen)") }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        let line = seen.components(separatedBy: "\n").first { $0.contains("cairn listening on http://") } ?? ""
        base = String(line[line.range(of: "http://")!.lowerBound...]).trimmingCharacters(in: .whitespaces)
        if let given {
            token = given
            return
        }
        let minted = try Shell.run(cairn, ["admin", "token", "--json"] + storeArgs)
        token = (try JSONSerialization.jsonObject(with: minted.out) as? [String: Any])?["token"] as? String ?? ""
        guard seed else { return }
        try curl("POST", "/v1/orgs/default/projects", #"{"name":"bench"}"#)
        var changes: [String] = []
        for i in 0..<1000 { changes.append(#"{"op":"write","path":"seed/\#(i).json","content":"{\"id\":\#(i)}"}"#) }
        try curl("POST", "/v1/orgs/default/projects/bench/commits", #"{"message":"seed","changes":[\#(changes.joined(separator: ","))]}"#)
    }

    /// The store's size on disk once its write-ahead log is checkpointed into it (the log's own
    /// size is churn: pages rewritten, not data kept).
    func storeBytes() -> Int {
        let db = folder.appendingPathComponent("data/cairn.sqlite").path
        _ = try? Shell.run("sqlite3", [db, "PRAGMA wal_checkpoint(TRUNCATE);"])
        return (try? FileManager.default.attributesOfItem(atPath: db)[.size] as? Int) ?? 0
    }

    @discardableResult
    func curl(_ method: String, _ path: String, _ body: String) throws -> Data {
        let r = try Shell.run(
            "curl",
            [
                "-sf", "-X", method, "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json", "--data-binary", "@-",
                base + path,
            ],
            stdin: Data(body.utf8)
        )
        guard r.status == 0 else { throw CairnError(.storage, "set-up request \(method) \(path) failed") }
        return r.out
    }

    struct Load {
        let rate, p50, p99: Double
        let errors: Int
    }

    /// PUTs one-file commits; `tag` keeps two load generators (on two servers) on different paths.
    func wrk(connections: Int, threads: Int, seconds: Int, tag: String = "") throws -> Load {
        let script = folder.appendingPathComponent("put-\(connections)\(tag).lua")
        try Data(
            """
            -- Each wrk thread has its own Lua state; `id` is set per thread by setup. Paths cycle
            -- over 1,000 per thread, so requests in flight never write the same file.
            local counter = 0
            local ids = 0
            function setup(thread) ids = ids + 1; thread:set("id", ids) end
            function request()
              counter = counter + 1
              local path = "/v1/orgs/default/projects/bench/files/w/\(tag)\(connections)-" .. id .. "-" .. (counter % 1000) .. ".json"
              local body = '{"content":"{\\\\"v\\\\":' .. counter .. '}","message":"bench"}'
              return wrk.format("PUT", path, {["Authorization"] = "Bearer \(token)", ["Content-Type"] = "application/json"}, body)
            end
            """.utf8
        ).write(to: script)
        return try runWrk(threads: threads, connections: connections, seconds: seconds, ["-s", script.path, base])
    }

    /// POSTs JSON bodies to one path, one connection, cycling over `bodies` in order, and reports
    /// as `wrk` does (a lean keep-alive client: its own cost per request is a few microseconds).
    /// `bearer` replaces the admin's token (an agent's key); `headers` are added to each request.
    func wrkPost(
        _ path: String,
        bodies: [String],
        seconds: Int,
        tag: String,
        bearer: String? = nil,
        headers: [String: String] = [:]
    ) throws -> Load {
        let script = folder.appendingPathComponent("post-\(tag).lua")
        // Lua long strings ([==[ … ]==]) take the JSON as it is, quotes and all.
        let table = bodies.map { "[==[\($0)]==]" }.joined(separator: ",\n")
        var all = ["Authorization": "Bearer \(bearer ?? token)", "Content-Type": "application/json"]
        all.merge(headers) { _, new in new }
        let fields = all.sorted { $0.key < $1.key }.map { "[\"\($0.key)\"] = \"\($0.value)\"" }.joined(separator: ", ")
        try Data(
            """
            local bodies = {\(table)}
            local i = 0
            function request()
              i = i % #bodies + 1
              return wrk.format("POST", "\(path)", {\(fields)}, bodies[i])
            end
            """.utf8
        ).write(to: script)
        return try runWrk(threads: 1, connections: 1, seconds: seconds, ["-s", script.path, base])
    }

    /// GETs one path over and over (`connections` at once) and reports as `wrk` does.
    func wrkGet(_ path: String, connections: Int, seconds: Int, bearer: String? = nil) throws -> Load {
        try runWrk(threads: 1, connections: connections, seconds: seconds, ["-H", "Authorization: Bearer \(bearer ?? token)", base + path])
    }

    /// Runs wrk with its latency distribution and reads its report.
    private func runWrk(threads: Int, connections: Int, seconds: Int, _ rest: [String]) throws -> Load {
        let r = try Shell.run("wrk", ["-t", String(threads), "-c", String(connections), "-d", "\(seconds)s", "--latency"] + rest)
        return Self.parse(String(decoding: r.out, as: UTF8.self))
    }

    static func parse(_ text: String) -> Load {
        func value(after label: String) -> Double {
            guard let line = text.components(separatedBy: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) })
            else { return .nan }
            let field =
                line.trimmingCharacters(in: .whitespaces).dropFirst(label.count).trimmingCharacters(in: .whitespaces).components(
                    separatedBy: " "
                ).first ?? ""
            return Self.seconds(field)
        }
        let rate =
            Double(
                text.components(separatedBy: "\n").first { $0.hasPrefix("Requests/sec:") }?.split(separator: ":").last?.trimmingCharacters(
                    in: .whitespaces
                ) ?? ""
            ) ?? .nan
        var errors = 0
        if let line = text.components(separatedBy: "\n").first(where: { $0.contains("Non-2xx or 3xx responses:") }) {
            errors += Int(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
        }
        if text.contains("Socket errors:") { errors += 1 }
        return Load(rate: rate, p50: value(after: "50%"), p99: value(after: "99%"), errors: errors)
    }

    /// wrk prints durations as `812.00us`, `1.23ms` or `1.02s`.
    static func seconds(_ s: String) -> Double {
        for (suffix, scale) in [("us", 1e-6), ("ms", 1e-3), ("s", 1.0)] where s.hasSuffix(suffix) {
            return (Double(s.dropLast(suffix.count)) ?? .nan) * scale
        }
        return .nan
    }

    func auditCount() throws -> Int {
        let r = try Shell.run(cairn, ["audit", "export"] + storeArgs)
        return String(decoding: r.out, as: UTF8.self).split(separator: "\n").count
    }

    func verify() throws -> Bool {
        try Shell.run(cairn, ["verify"] + storeArgs).status == 0
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
