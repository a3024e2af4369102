import CairnCore
import CairnSQLite
@_spi(StoreWrites) import CairnStore
import Foundation

extension Bench {
    /// Reading one file at head and as of a commit 100k commits back, in process and through the
    /// CLI, against `git show REV:path` on the same history.
    func readLatency() async throws {
        let files = 10_000
        let commits = quick ? 10_000 : 100_000
        let reads = 300
        report.section(
            "Reading one file: at head, and as of a commit \(commits) commits back",
            "A project of \(files) files (`f/<k/100>/<k>.json`), then \(commits) commits each changing one file (written by 32 "
                + "concurrent writers). In-process: `readBytes(path, at:)` on random paths, median of \(reads). CLI: `cairn read PATH --at "
                + "REF` as a new process, median of 30 (includes process start and opening the store). git: `git show REV:path` on the same "
                + "files and history (made with fast-import, packed), median of 30."
        )
        let folder = root.appendingPathComponent("read")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let storage = try SQLiteStorage(path: folder.appendingPathComponent("cairn.sqlite").path)
        let repo = Repository(storage: storage)
        let p = try await makeProject(repo, "r")
        let base = try await p.commit(
            (0..<files).map { .write(path: "f/\($0 / 100)/\($0).json", content: Array("{\"id\":\($0),\"v\":0}".utf8)) },
            metadata: Self.meta
        ).head
        let baseTime = Clock.nowMillis()
        try await Task.sleep(for: .milliseconds(5))
        log("read: making \(commits) commits")
        let made = try await Measure.seconds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<32 {
                    group.addTask {
                        for i in 0..<(commits / 32) {
                            let k = (i * 32 + w) % files
                            try await p.write("f/\(k / 100)/\(k).json", Array("{\"id\":\(k),\"v\":\(i + 1)}".utf8), metadata: Self.meta)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        log("read: \(commits) commits in \(String(format: "%.1f", made)) s")
        let count = try await p.log(at: base.hex, limit: 1).commits.count
        precondition(count == 1)

        var rng = SystemRandomNumberGenerator()
        let paths = (0..<reads).map { _ in
            let k = Int.random(in: 0..<files, using: &rng)
            return "f/\(k / 100)/\(k).json"
        }
        let fresh = try await Repository(storage: storage).project("r", organization: Repository(storage: storage).organization("bench").id)
        let head = try await Measure.median(runs: reads) { i in _ = try await fresh.readBytes(paths[i], at: "main") }
        let old = try await Measure.median(runs: reads) { i in _ = try await fresh.readBytes(paths[(i + 7) % reads], at: base.hex) }
        let oldByTime = try await Measure.median(runs: reads) { i in
            _ = try await fresh.readBytes(paths[(i + 13) % reads], at: "main@\(Clock.rfc3339(baseTime))")
        }

        // CLI, as a user would run it.
        let cairn = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cairn").path
        func cli(_ at: String) async throws -> Double {
            try await Measure.median(runs: 30) { i in
                let p = Process()
                p.executableURL = URL(fileURLWithPath: cairn)
                p.arguments = ["read", paths[i], "--at", at, "--data", folder.path, "-p", "r"]
                p.standardOutput = FileHandle.nullDevice
                try p.run()
                p.waitUntilExit()
            }
        }
        let cliHead = FileManager.default.fileExists(atPath: cairn) ? try await cli("main") : .nan
        let cliOld = FileManager.default.fileExists(atPath: cairn) ? try await cli(base.hex) : .nan

        var gitHead = Double.nan
        var gitOld = Double.nan
        if Shell.has("git") {
            log("read: git history of \(commits) commits")
            let g = try GitPeer(dir: root.appendingPathComponent("git-read").path)
            var stream = GitPeer.commitStream(
                branch: "main",
                message: "init",
                files: (0..<files).map { ("f/\($0 / 100)/\($0).json", "{\"id\":\($0),\"v\":0}") },
                time: 1_700_000_000
            )
            for c in 0..<commits {
                let k = c % files
                stream += GitPeer.commitStream(
                    branch: "main",
                    message: "c\(c)",
                    files: [("f/\(k / 100)/\(k).json", "{\"id\":\(k),\"v\":\(c / 32 + 1)}")],
                    time: 1_700_000_001 + c
                )
            }
            try g.fastImport(stream)
            let oldRev = try g.git(["rev-parse", "main~\(commits)"])
            gitHead = try await Measure.median(runs: 30) { i in _ = try g.git(["show", "main:\(paths[i])"]) }
            gitOld = try await Measure.median(runs: 30) { i in _ = try g.git(["show", "\(oldRev):\(paths[i])"]) }
        }
        report.row("at head (in process)", Measure.ms(head), "git show main:path", Measure.ms(gitHead), Measure.ratio(head / gitHead))
        report.row(
            "\(commits) commits back, by commit id (in process)",
            Measure.ms(old),
            "git show REV:path",
            Measure.ms(gitOld),
            Measure.ratio(old / gitOld)
        )
        report.row(
            "\(commits) commits back, by main@time (in process)",
            Measure.ms(oldByTime),
            "git show REV:path",
            Measure.ms(gitOld),
            Measure.ratio(oldByTime / gitOld)
        )
        report.row(
            "at head (`cairn read` process)",
            Measure.ms(cliHead),
            "git show main:path",
            Measure.ms(gitHead),
            Measure.ratio(cliHead / gitHead)
        )
        report.row(
            "\(commits) back (`cairn read` process)",
            Measure.ms(cliOld),
            "git show REV:path",
            Measure.ms(gitOld),
            Measure.ratio(cliOld / gitOld)
        )
        report.note(String(format: "As-of read / head read (in process): %.2f×.", old / head))
    }
}
