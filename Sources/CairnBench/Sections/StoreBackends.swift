import CairnCompute
import CairnCore
import CairnPostgres
@_spi(StoreWrites) import CairnStore
import Foundation

extension Bench {
    /// Durable commits per second and read latency through `cairn serve` on SQLite and on
    /// PostgreSQL (one server, and two servers sharing the store), beside raw PostgreSQL (pgbench)
    /// on the same cluster, in the same run.
    func storeBackends() async throws {
        guard Shell.has("wrk"), Shell.has("pgbench") || FileManager.default.fileExists(atPath: Self.pgbench) else {
            report.note("Store backends: skipped, `wrk` or `pgbench` is missing (scripts/bench.sh installs them).")
            return
        }
        guard let cluster = ProcessInfo.processInfo.environment["CAIRN_TEST_POSTGRES_URL"] else {
            report.note("Store backends: skipped, no PostgreSQL cluster (scripts/bench.sh starts one and sets CAIRN_TEST_POSTGRES_URL).")
            return
        }
        let seconds = quick ? 3 : 8
        report.section(
            "Store backends: SQLite and PostgreSQL, one server and two",
            "Each write is `PUT /v1/orgs/default/projects/bench/files/...` of one small JSON file: authenticated, authorized, committed "
                + "durably with its audit entry, announced; the project holds 1,000 files. `cairn serve` release builds, rate limit off, "
                + "driven by wrk on loopback for \(seconds) s per row: 32 connections in all (two servers: 16 on each, at once, on disjoint "
                + "paths). Reads: `GET` of one file by one connection per server (two servers: one on each, at once). SQLite: WAL, "
                + "synchronous=FULL. PostgreSQL \(Self.postgresVersion()): a cluster of scripts/pg-cluster.sh on this machine (fsync on, "
                + "synchronous_commit on, shared_buffers 128 MB), reached over TCP on loopback with password authentication; both servers "
                + "and the load generators share the same 2 cores with it. Peer: raw PostgreSQL through pgbench on the same cluster: "
                + "one-row INSERT transactions (32 clients, \(quick ? 100 : 400) each) and primary-key SELECTs (1 client, "
                + "\(quick ? 5000 : 20000) of them; pgbench reports the mean, not the median). Store alone: the Storage without any server, "
                + "in this process: 32 tasks committing one-file writes (group commit), and sequential reads of a random one of 1,000 files "
                + "at head through a repository opened afresh (its node cache cold at first)."
        )
        let base = "/v1/orgs/default/projects/bench/files/seed/7.json"

        log("backends: SQLite, one server")
        let sqlite = try GovernedServer(folder: root.appendingPathComponent("backend-sqlite"))
        try sqlite.setUp()
        let sqliteWrite = try sqlite.wrk(connections: 32, threads: 2, seconds: seconds)
        let sqliteRead = try sqlite.wrkGet(base, connections: 1, seconds: seconds)
        sqlite.stop()

        log("backends: PostgreSQL, one server")
        let schema = "bench_\(ProcessInfo.processInfo.processIdentifier)"
        let one = try GovernedServer(folder: root.appendingPathComponent("backend-pg-one"), databaseURL: "\(cluster)?schema=\(schema)_one")
        try one.setUp()
        let oneWrite = try one.wrk(connections: 32, threads: 2, seconds: seconds)
        let oneRead = try one.wrkGet(base, connections: 1, seconds: seconds)
        let oneVerified = try one.verify()
        one.stop()

        log("backends: PostgreSQL, two servers")
        let url = "\(cluster)?schema=\(schema)_two"
        let a = try GovernedServer(folder: root.appendingPathComponent("backend-pg-a"), databaseURL: url)
        try a.setUp()
        let b = try GovernedServer(folder: root.appendingPathComponent("backend-pg-b"), databaseURL: url)
        try b.setUp(seed: false, token: a.token)
        async let writeA = Task.detached { try a.wrk(connections: 16, threads: 1, seconds: seconds, tag: "a") }.value
        async let writeB = Task.detached { try b.wrk(connections: 16, threads: 1, seconds: seconds, tag: "b") }.value
        let (twoWriteA, twoWriteB) = try await (writeA, writeB)
        async let readA = Task.detached { try a.wrkGet(base, connections: 1, seconds: seconds) }.value
        async let readB = Task.detached { try b.wrkGet(base, connections: 1, seconds: seconds) }.value
        let (twoReadA, twoReadB) = try await (readA, readB)
        let twoVerified = try a.verify()
        a.stop()
        b.stop()

        log("backends: raw PostgreSQL (pgbench)")
        let raw = try rawPostgres(cluster: cluster, seconds: seconds)

        log("backends: the store alone, in process")
        let (_, sqliteRepo) = try freshStore("backend-inprocess")
        let inSQLite = try await storeAlone(sqliteRepo)
        let pgStorage = try await PostgresStorage.connect(
            PostgresLocation(url: "\(cluster)?schema=\(schema)_store", password: PostgresLocation.password()),
            migrate: true
        )
        let inPostgres = try await storeAlone(Repository(storage: pgStorage))
        pgStorage.close()

        let twoRate = twoWriteA.rate + twoWriteB.rate
        report.row(
            "durable commits/s, SQLite, 1 server",
            Measure.rate(sqliteWrite.rate),
            "raw PostgreSQL INSERTs",
            Measure.rate(raw.tps),
            Measure.ratio(raw.tps / sqliteWrite.rate) + " cost"
        )
        report.row(
            "durable commits/s, PostgreSQL, 1 server",
            Measure.rate(oneWrite.rate),
            "raw PostgreSQL INSERTs",
            Measure.rate(raw.tps),
            Measure.ratio(raw.tps / oneWrite.rate) + " cost"
        )
        report.row(
            "durable commits/s, PostgreSQL, 2 servers",
            Measure.rate(twoRate),
            "raw PostgreSQL INSERTs",
            Measure.rate(raw.tps),
            Measure.ratio(raw.tps / twoRate) + " cost"
        )
        report.row(
            "write p50, SQLite / PostgreSQL 1 server",
            Measure.ms(sqliteWrite.p50),
            "PostgreSQL 1 server",
            Measure.ms(oneWrite.p50),
            Measure.ratio(oneWrite.p50 / sqliteWrite.p50)
        )
        report.row(
            "write p50, PostgreSQL 2 servers (a, b)",
            "\(Measure.ms(twoWriteA.p50)), \(Measure.ms(twoWriteB.p50))",
            "1 server",
            Measure.ms(oneWrite.p50),
            Measure.ratio(max(twoWriteA.p50, twoWriteB.p50) / oneWrite.p50)
        )
        report.row(
            "read p50, SQLite, 1 server",
            Measure.ms(sqliteRead.p50),
            "raw PostgreSQL SELECT (mean)",
            Measure.ms(raw.readMean),
            Measure.ratio(sqliteRead.p50 / raw.readMean)
        )
        report.row(
            "read p50, PostgreSQL, 1 server",
            Measure.ms(oneRead.p50),
            "raw PostgreSQL SELECT (mean)",
            Measure.ms(raw.readMean),
            Measure.ratio(oneRead.p50 / raw.readMean)
        )
        report.row(
            "read p50, PostgreSQL, 2 servers (a, b)",
            "\(Measure.ms(twoReadA.p50)), \(Measure.ms(twoReadB.p50))",
            "raw PostgreSQL SELECT (mean)",
            Measure.ms(raw.readMean),
            Measure.ratio(max(twoReadA.p50, twoReadB.p50) / raw.readMean)
        )
        report.row(
            "read p99, SQLite / PostgreSQL 1 server",
            Measure.ms(sqliteRead.p99),
            "PostgreSQL 1 server",
            Measure.ms(oneRead.p99),
            Measure.ratio(oneRead.p99 / sqliteRead.p99)
        )
        report.row(
            "store alone, 32 writers: commits/s, PostgreSQL",
            Measure.rate(inPostgres.rate),
            "SQLite",
            Measure.rate(inSQLite.rate),
            Measure.ratio(inSQLite.rate / inPostgres.rate) + " cost"
        )
        report.row(
            "store alone: read one file at head, p50, PostgreSQL",
            Measure.ms(inPostgres.read50),
            "SQLite",
            Measure.ms(inSQLite.read50),
            Measure.ratio(inPostgres.read50 / inSQLite.read50)
        )
        report.row(
            "store alone: read one file at head, p99, PostgreSQL",
            Measure.ms(inPostgres.read99),
            "SQLite",
            Measure.ms(inSQLite.read99),
            Measure.ratio(inPostgres.read99 / inSQLite.read99)
        )
        let errors = [sqliteWrite, sqliteRead, oneWrite, oneRead, twoWriteA, twoWriteB, twoReadA, twoReadB].map(\.errors).reduce(0, +)
        if errors > 0 { report.note("wrk saw \(errors) non-2xx answers or socket errors: the figures above are not clean.") }
        report.note(
            "`cairn verify` on the PostgreSQL stores afterwards: one server \(oneVerified ? "clean" : "FAILED"), two servers "
                + "\(twoVerified ? "clean" : "FAILED")."
        )
    }

    /// The store without a server: 32 tasks committing one-file writes, then sequential reads
    /// of random files at head (a fresh repository, so no node is cached at first).
    private func storeAlone(_ repo: Repository) async throws -> (rate: Double, read50: Double, read99: Double) {
        let p = try await makeProject(repo, "bench")
        try await p.commit((0..<1000).map { .write(path: "seed/\($0).json", content: Array("{\"id\":\($0)}".utf8)) }, metadata: Self.meta)
        let total = quick ? 1600 : 3200
        let elapsed = try await Measure.seconds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<32 {
                    group.addTask {
                        for i in 0..<(total / 32) {
                            _ = try await p.write("w/\(w)-\(i % 20).json", Array("{\"v\":\(i)}".utf8), metadata: Self.meta)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let fresh = try await Repository(storage: repo.storage).project("bench", organization: repo.organization("bench").id)
        var reads: [Double] = []
        var rng = SplitMix64(state: 7)
        for _ in 0..<(quick ? 1000 : 3000) {
            let path = "seed/\(rng.next() % 1000).json"
            reads.append(try await Measure.seconds { _ = try await fresh.read(path) })
        }
        return (Double(total) / elapsed, Self.percentile(reads, 0.5), Self.percentile(reads, 0.99))
    }

    static let pgbench: String = {
        let dirs = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return dirs.sorted().last.map { "/usr/lib/postgresql/\($0)/bin/pgbench" } ?? "pgbench"
    }()

    static func postgresVersion() -> String {
        let dirs = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return dirs.sorted().last ?? "?"
    }

    /// pgbench on the same cluster: one-row INSERT transactions from 32 clients, then PK reads.
    private func rawPostgres(cluster: String, seconds: Int) throws -> (tps: Double, readMean: Double) {
        guard let parts = URLComponents(string: cluster), let host = parts.host else {
            throw CairnError(.invalidArgument, "bad cluster URL")
        }
        let port = String(parts.port ?? 5432)
        let user = parts.user ?? "cairn"
        let db = String(parts.path.dropFirst())
        setenv("PGPASSWORD", try PostgresLocation.password() ?? "", 1)
        let table = "bench_raw_\(ProcessInfo.processInfo.processIdentifier)"
        _ = try Shell.run(
            "psql",
            [
                "-q", "-h", host, "-p", port, "-U", user, db, "-c",
                "CREATE TABLE \(table) (id BIGSERIAL PRIMARY KEY, v TEXT); INSERT INTO \(table) (v) SELECT repeat('x', 100) FROM "
                    + "generate_series(1, 1000);",
            ]
        )
        let write = root.appendingPathComponent("pg-write.sql")
        let read = root.appendingPathComponent("pg-read.sql")
        try Data("INSERT INTO \(table) (v) VALUES (repeat('x', 100));\n".utf8).write(to: write)
        try Data("\\set k random(1, 1000)\nSELECT v FROM \(table) WHERE id = :k;\n".utf8).write(to: read)
        // A count of transactions (-t), not a duration (-T): pgbench times -T with SIGALRM, which
        // a child of this process inherits blocked, so a -T run here never ends.
        func run(_ script: URL, clients: Int, transactions: Int) throws -> String {
            let r = try Shell.run(
                "timeout",
                [
                    "-s", "KILL", "300", Self.pgbench, "-n", "-h", host, "-p", port, "-U", user, "-c", String(clients), "-j", "2", "-t",
                    String(transactions), "-f", script.path, db,
                ]
            )
            return String(decoding: r.out, as: UTF8.self)
        }
        func number(_ text: String, after label: String) -> Double {
            guard let line = text.components(separatedBy: "\n").first(where: { $0.hasPrefix(label) }) else { return .nan }
            return Double(line.dropFirst(label.count).trimmingCharacters(in: .whitespaces).components(separatedBy: " ").first ?? "") ?? .nan
        }
        let tps = number(try run(write, clients: 32, transactions: quick ? 100 : 400), after: "tps =")
        let readMean = number(try run(read, clients: 1, transactions: quick ? 5000 : 20000), after: "latency average =") / 1000
        return (tps, readMean)
    }
}
