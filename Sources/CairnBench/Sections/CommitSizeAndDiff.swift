import CairnCore
import CairnSQLite
@_spi(StoreWrites) import CairnStore
import Foundation

extension Bench {
    /// Storage added by a one-file commit at 10k, 100k and 1M files (against git), then a diff of
    /// two branches that differ in 100 of the largest project's files (against `git diff`).
    func commitSizeAndDiff() async throws {
        let scales = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]
        let oneFileCommits = 20
        report.section(
            "Storage added by a one-file commit",
            "Projects of N files (`d/<i/1000>/<i>.json`, ~20 bytes each) made in one commit, then \(oneFileCommits) commits each "
                + "changing one random file. Cairn: object bytes added (blob + tree nodes + commit), and the SQLite file's growth after a "
                + "WAL checkpoint (indexes, ref log and path history included). git: loose objects added by the same one-file commits "
                + "(hash-object, update-index, write-tree, commit-tree: what `git commit` writes), zlib-compressed."
        )
        var largest: (Project, SQLiteStorage, GitPeer?, Int)? = nil
        var rng = SystemRandomNumberGenerator()
        for n in scales {
            log("size: building \(n) files")
            let (storage, repo) = try freshStore("size-\(n)")
            let p = try await makeProject(repo, "s")
            let build = try await Measure.seconds {
                try await p.commit(
                    (0..<n).map { .write(path: Self.sizePath($0), content: Array("{\"id\":\($0),\"v\":0}".utf8)) },
                    metadata: Self.meta
                )
            }
            log("size: \(n) files in one commit: \(String(format: "%.1f", build)) s")
            try storage.checkpoint()
            let file0 = try await storage.storageBytes()
            let payload0 = try await storage.objectPayloadBytes(project: p.record.id)
            for k in 0..<oneFileCommits {
                let i = Int.random(in: 0..<n, using: &rng)
                try await p.write(Self.sizePath(i), Array("{\"id\":\(i),\"v\":\(k + 1)}".utf8), metadata: Self.meta)
            }
            try storage.checkpoint()
            let file1 = try await storage.storageBytes()
            let payload1 = try await storage.objectPayloadBytes(project: p.record.id)
            let ours = Double(payload1 - payload0) / Double(oneFileCommits)
            let growth = Double(file1 - file0) / Double(oneFileCommits)

            var gitPeer: GitPeer? = nil
            var gitBytes = Double.nan
            if Shell.has("git") {
                log("size: git repository of \(n) files")
                let g = try GitPeer(dir: root.appendingPathComponent("git-size-\(n)").path)
                try g.fastImport(
                    GitPeer.commitStream(
                        branch: "main",
                        message: "init",
                        files: (0..<n).map { (Self.sizePath($0), "{\"id\":\($0),\"v\":0}") },
                        time: 1_700_000_000
                    )
                )
                let index = root.appendingPathComponent("git-size-\(n).index").path
                _ = try g.git(["read-tree", "main"], env: ["GIT_INDEX_FILE": index])
                let before = g.looseObjectBytes()
                let commits = n >= 1_000_000 ? 5 : oneFileCommits
                for k in 0..<commits {
                    let i = Int.random(in: 0..<n, using: &rng)
                    try g.plumbingCommit(path: Self.sizePath(i), content: "{\"id\":\(i),\"v\":\(k + 1)}", index: index)
                }
                gitBytes = Double(g.looseObjectBytes() - before) / Double(commits)
                gitPeer = g
            }
            report.row(
                "\(n) files: object bytes per one-file commit",
                Measure.bytes(ours),
                "git loose objects",
                Measure.bytes(gitBytes),
                Measure.ratio(ours / gitBytes)
            )
            report.row(
                "\(n) files: SQLite file growth per commit",
                Measure.bytes(growth),
                "git loose objects",
                Measure.bytes(gitBytes),
                Measure.ratio(growth / gitBytes)
            )
            largest = (p, storage, gitPeer, n)
        }
        guard let (p, storage, git, n) = largest else { return }

        // Diff: 100 changed files out of n.
        report.section(
            "Diff of two branches that differ in 100 of \(n) files",
            "Branch `b` from main with one commit changing 100 random files. Cairn: `diff(main, b)` (file list, no JSON detail) through "
                + "a new Repository each run, so its node cache is cold (the OS page cache is warm); median of 9. git: `git diff "
                + "--name-only main b` in the repository of the same files, median of 9 (includes process start)."
        )
        var picks = Set<Int>()
        while picks.count < 100 { picks.insert(Int.random(in: 0..<n, using: &rng)) }
        try await p.createBranch("b", from: "main", principal: "bench")
        try await p.commit(
            picks.map { .write(path: Self.sizePath($0), content: Array("{\"id\":\($0),\"v\":\"b\"}".utf8)) },
            branch: "b",
            metadata: Self.meta
        )
        var files = 0
        let ours = try await Measure.median(runs: 9) { _ in
            let fresh = try await Repository(storage: storage).project(p.record.name, organization: p.record.organization)
            files = try await fresh.diff(from: "main", to: "b", json: false).files.count
        }
        precondition(files == 100, "diff found \(files) files")
        var theirs = Double.nan
        if let git {
            try git.fastImport(
                GitPeer.commitStream(
                    branch: "b",
                    from: "refs/heads/main",
                    message: "b",
                    files: picks.map { (Self.sizePath($0), "{\"id\":\($0),\"v\":\"b\"}") },
                    time: 1_700_000_100
                )
            )
            var count = 0
            theirs = try await Measure.median(runs: 9) { _ in
                count = try git.git(["diff", "--name-only", "main", "b"]).split(separator: "\n").count
            }
            precondition(count == 100, "git diff found \(count) files")
        }
        report.row(
            "diff, 100 of \(n) files changed",
            Measure.ms(ours),
            "git diff --name-only",
            Measure.ms(theirs),
            Measure.ratio(ours / theirs)
        )
    }

    static func sizePath(_ i: Int) -> String { "d/\(i / 1000)/\(i).json" }
}
