import CairnCore
import CairnSQLite
@_spi(StoreWrites) import CairnStore
import Foundation

extension Bench {
    /// Glob and grep over 100k files, against find and ripgrep over the same files on disk.
    func globAndGrep() async throws {
        let n = quick ? 30_000 : 100_000
        let source = URL(fileURLWithPath: ProcessInfo.processInfo.environment["CAIRN_BENCH_DATA"] ?? "../shared/data/helsinki.geojsonseq")
        let features = try GeoJSONImport.features(in: [UInt8](Data(contentsOf: source)))
        let runs = Int(ProcessInfo.processInfo.environment["CAIRN_BENCH_RUNS"] ?? "") ?? 5
        report.section(
            "Glob and grep over \(n) files",
            "\(n) real GeoJSON features (central Helsinki, OpenStreetMap, cycled from \(features.count) features into folders `c<k>/`), "
                + "in one Cairn project at head and as files on disk (page cache warm). Median of \(runs). find and ripgrep "
                + "(\(Self.rgVersion())) run as processes with their default threads (2 cores here); Cairn runs in process."
        )
        var changes: [FileChange] = []
        let disk = root.appendingPathComponent("files")
        for i in 0..<n {
            let f = features[i % features.count]
            let props: [String: JSONValue]
            if case .object(let o)? = f.feature["properties"] { props = o } else { props = [:] }
            let type = props["@type"].flatMap(PathTemplate.pathText) ?? "x"
            let id = props["@id"].flatMap(PathTemplate.pathText) ?? String(i)
            var geometry = "g"
            if case .object(let g)? = f.feature["geometry"], case .string(let t)? = g["type"] { geometry = t }
            let path = "c\(i / features.count)/\(type)/\(id)-\(geometry).json"
            changes.append(.write(path: path, content: f.bytes))
            let url = disk.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(f.bytes).write(to: url)
        }
        let (_, repo) = try freshStore("search")
        let p = try await makeProject(repo, "g")
        try await p.commit(changes, metadata: Self.meta)
        let pattern = "**/node/*-Point.json"

        var ourCount = 0
        let glob = try await Measure.median(runs: runs) { _ in
            var all = 0
            var cursor: String? = nil
            repeat {
                let page = try await p.glob(pattern, limit: 10_000, after: cursor)
                all += page.paths.count
                cursor = page.next
            } while cursor != nil
            ourCount = all
        }
        var findCount = 0
        let find = try await Measure.median(runs: runs) { _ in
            findCount = try Shell.run("find", [disk.path, "-path", "*/node/*-Point.json"]).out.split(separator: 0x0A).count
        }
        precondition(ourCount == findCount, "glob found \(ourCount), find \(findCount)")
        report.row("glob `\(pattern)` (\(ourCount) paths)", Measure.ms(glob), "find -path", Measure.ms(find), Measure.ratio(glob / find))
        if Shell.has("rg") {
            let rgFiles = try await Measure.median(runs: runs) { _ in _ = try Shell.run("rg", ["--files", "-g", pattern, disk.path]) }
            report.row("glob `\(pattern)`", Measure.ms(glob), "rg --files -g", Measure.ms(rgFiles), Measure.ratio(glob / rgFiles))
        }
        for (label, needle) in [("literal", "traffic_signals"), ("regex", #""name":"[A-Z][a-z]+katu""#)] {
            var ours = 0
            let t = try await Measure.median(runs: runs) { _ in
                ours = try await p.grep(GrepQuery(pattern: needle, mode: .files)).files.count
            }
            guard Shell.has("rg") else {
                report.row("grep \(label) `\(needle)` (\(ours) files)", Measure.ms(t), "ripgrep", "not installed", "")
                continue
            }
            var theirs = 0
            let rg = try await Measure.median(runs: runs) { _ in
                theirs = try Shell.run("rg", ["-l", needle, disk.path]).out.split(separator: 0x0A).count
            }
            precondition(ours == theirs, "grep found \(ours) files, rg \(theirs)")
            report.row("grep \(label) `\(needle)` (\(ours) files)", Measure.ms(t), "rg -l", Measure.ms(rg), Measure.ratio(t / rg))
        }
    }

    static func rgVersion() -> String {
        (try? String(decoding: Shell.run("rg", ["--version"]).out, as: UTF8.self).split(separator: "\n").first.map(String.init))
            ?? "ripgrep not installed"
    }
}
