import CairnCore
import CairnSQLite
@_spi(StoreWrites) import CairnStore
import Foundation
import GRDB

extension Bench {
    /// Durable commits per second: 1 writer and 32 concurrent writers, against one fsync per
    /// commit in raw SQLite and against `git commit`.
    func commitThroughput() async throws {
        let files = 1000
        let single = quick ? 100 : 300
        let concurrent = quick ? 1600 : 6400
        report.section(
            "Durable commits per second",
            "A project of \(files) small JSON files; each commit changes one file. Cairn: SQLite WAL, synchronous=FULL, group commit. 1 "
                + "writer: \(single) sequential commits. 32 writers: \(concurrent) commits from 32 concurrent tasks, each on its own paths. "
                + "Raw SQLite: one INSERT per transaction, WAL, synchronous=FULL, same disk. git: `git add` + `git commit -q` of one "
                + "changed file in a repository of the same \(files) files (git's default fsync settings)."
        )
        let (_, repo) = try freshStore("throughput")
        let p = try await makeProject(repo, "t")
        try await p.commit(
            (0..<files).map { .write(path: "f/\($0).json", content: Array("{\"v\":0,\"id\":\($0)}".utf8)) },
            metadata: Self.meta
        )

        let t1 = try await Measure.seconds {
            for i in 0..<single { try await p.write("f/\(i % files).json", Array("{\"v\":\(i + 1)}".utf8), metadata: Self.meta) }
        }
        let rate1 = Double(single) / t1
        let before = await p.commitStats()
        let t32 = try await Measure.seconds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<32 {
                    group.addTask {
                        for i in 0..<(concurrent / 32) {
                            try await p.write("w\(w)/\(i % 20).json", Array("{\"w\":\(w),\"i\":\(i)}".utf8), metadata: Self.meta)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let after = await p.commitStats()
        let rate32 = Double(concurrent) / t32
        let perTransaction = Double(after.requests - before.requests) / Double(max(1, after.transactions - before.transactions))

        // Peer: raw SQLite, one durable transaction per insert.
        let rawPath = root.appendingPathComponent("raw.sqlite").path
        var config = Configuration()
        config.journalMode = .wal
        let raw = try DatabaseQueue(path: rawPath, configuration: config)
        try await raw.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)")
        }
        let rawN = quick ? 200 : 600
        let tRaw = try await Measure.seconds {
            for i in 0..<rawN {
                try await raw.write { db in try db.execute(sql: "INSERT INTO t(data) VALUES (?)", arguments: [Data("{\"v\":\(i)}".utf8)]) }
            }
        }
        let rateRaw = Double(rawN) / tRaw

        // Peer: git commit of one changed file.
        var rateGit = Double.nan
        if Shell.has("git") {
            let dir = root.appendingPathComponent("git-throughput").path
            try FileManager.default.createDirectory(atPath: dir + "/f", withIntermediateDirectories: true)
            for i in 0..<files { try Data("{\"v\":0,\"id\":\(i)}".utf8).write(to: URL(fileURLWithPath: "\(dir)/f/\(i).json")) }
            try Shell.run("git", ["init", "-q"], cwd: dir)
            try Shell.run("git", ["-c", "user.name=b", "-c", "user.email=b@b", "add", "-A"], cwd: dir)
            try Shell.run("git", ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "init"], cwd: dir)
            let gitN = quick ? 30 : 100
            let tGit = try await Measure.seconds {
                for i in 0..<gitN {
                    try Data("{\"v\":\(i + 1)}".utf8).write(to: URL(fileURLWithPath: "\(dir)/f/\(i % files).json"))
                    try Shell.run("git", ["add", "f/\(i % files).json"], cwd: dir)
                    try Shell.run("git", ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "c\(i)"], cwd: dir)
                }
            }
            rateGit = Double(gitN) / tGit
        }
        // The floor every durable commit pays here: one 4 KiB write + fsync of a file on the same disk.
        let fsyncPath = root.appendingPathComponent("fsync.bin").path
        let fd = open(fsyncPath, O_CREAT | O_WRONLY, 0o644)
        var page = [UInt8](repeating: 7, count: 4096)
        let fsyncN = quick ? 300 : 1000
        let tFsync = await Measure.seconds {
            for i in 0..<fsyncN {
                page[0] = UInt8(truncatingIfNeeded: i)
                _ = pwrite(fd, page, page.count, off_t((i % 64) * 4096))
                _ = fsync(fd)
            }
        }
        close(fd)
        let rateFsync = Double(fsyncN) / tFsync
        report.row("32 writers", Measure.rate(rate32), "4 KiB write + fsync", Measure.rate(rateFsync), Measure.ratio(rate32 / rateFsync))
        report.row("1 writer", Measure.rate(rate1), "raw SQLite, 1 fsync/commit", Measure.rate(rateRaw), Measure.ratio(rate1 / rateRaw))
        report.row("32 writers", Measure.rate(rate32), "raw SQLite, 1 fsync/commit", Measure.rate(rateRaw), Measure.ratio(rate32 / rateRaw))
        report.row("1 writer", Measure.rate(rate1), "git commit", Measure.rate(rateGit), Measure.ratio(rate1 / rateGit))
        report.row("32 writers", Measure.rate(rate32), "git commit", Measure.rate(rateGit), Measure.ratio(rate32 / rateGit))
        report.note(String(format: "Group commit carried %.1f commits per durable transaction under 32 writers.", perTransaction))
    }
}
