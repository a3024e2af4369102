import CairnCore
import CairnSQLite
@_spi(StoreWrites) import CairnStore
import Foundation

extension Bench {
    /// Merging two branches that each change 1,000 files, at growing project sizes: the cost
    /// should follow the changes, not the project. Peer: `git merge-tree --write-tree`.
    func mergeScaling() async throws {
        let scales = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]
        let changed = 1000
        report.section(
            "Merging two branches that each change \(changed) files",
            "A project of N files (`d/<i/1000>/<i>.json`) in one commit; branch `b` from it. main then changes \(changed) random files "
                + "and b another \(changed) (disjoint), one commit each. Cairn: `planMerge(b into main)` (merge base, both diffs, the "
                + "merged edits; nothing written) through a new Repository each run (cold node cache, warm OS cache), median of 5; then the "
                + "merge commit itself once. git: `git merge-tree --write-tree main b` on a repository of the same files and commits (made "
                + "with fast-import), median of 5, process start included."
        )
        var rng = SystemRandomNumberGenerator()
        for n in scales {
            log("merge: building \(n) files")
            let (storage, repo) = try freshStore("merge-\(n)")
            let p = try await makeProject(repo, "m")
            try await p.commit(
                (0..<n).map { .write(path: Self.sizePath($0), content: Array("{\"id\":\($0),\"v\":0}".utf8)) },
                metadata: Self.meta
            )
            try await p.createBranch("b", from: "main", principal: "bench")
            var picks = Set<Int>()
            while picks.count < 2 * changed { picks.insert(Int.random(in: 0..<n, using: &rng)) }
            let ordered = Array(picks)
            let mine = Array(ordered[..<changed])
            let theirs = Array(ordered[changed...])
            try await p.commit(
                mine.map { .write(path: Self.sizePath($0), content: Array("{\"id\":\($0),\"v\":\"main\"}".utf8)) },
                metadata: Self.meta
            )
            try await p.commit(
                theirs.map { .write(path: Self.sizePath($0), content: Array("{\"id\":\($0),\"v\":\"b\"}".utf8)) },
                branch: "b",
                metadata: Self.meta
            )

            var edits = 0
            let plan = try await Measure.median(runs: 5) { _ in
                let fresh = try await Repository(storage: storage).project(p.record.name, organization: p.record.organization)
                let planned = try await fresh.planMerge(source: "b", into: "main")
                precondition(planned.conflicts.isEmpty)
                edits = planned.edits.count
            }
            precondition(edits == changed, "the merge changes \(edits) files")
            let write = try await Measure.seconds {
                guard case .merged(let out, _) = try await p.merge(source: "b", into: "main", metadata: Self.meta), out.commit != nil else {
                    preconditionFailure("the merge did not commit")
                }
            }

            var gitTime = Double.nan
            if Shell.has("git") {
                log("merge: git repository of \(n) files")
                let g = try GitPeer(dir: root.appendingPathComponent("git-merge-\(n)").path)
                try g.fastImport(
                    GitPeer.commitStream(
                        branch: "main",
                        message: "init",
                        files: (0..<n).map { (Self.sizePath($0), "{\"id\":\($0),\"v\":0}") },
                        time: 1_700_000_000
                    )
                )
                try g.fastImport(
                    GitPeer.commitStream(
                        branch: "b",
                        from: "refs/heads/main",
                        message: "b",
                        files: theirs.map { (Self.sizePath($0), "{\"id\":\($0),\"v\":\"b\"}") },
                        time: 1_700_000_100
                    )
                )
                try g.fastImport(
                    GitPeer.commitStream(
                        branch: "main",
                        from: "refs/heads/main^0",
                        message: "main",
                        files: mine.map { (Self.sizePath($0), "{\"id\":\($0),\"v\":\"main\"}") },
                        time: 1_700_000_200
                    )
                )
                gitTime = try await Measure.median(runs: 5) { _ in _ = try g.git(["merge-tree", "--write-tree", "main", "b"]) }
            }
            report.row(
                "plan a merge, 2×\(changed) changes in \(n) files",
                Measure.ms(plan),
                "git merge-tree --write-tree",
                Measure.ms(gitTime),
                Measure.ratio(plan / gitTime)
            )
            report.row("merge commit (plan + write), \(n) files", Measure.ms(write), "", "", "")
        }
    }
}
