import Foundation

/// Builds git repositories holding the same data as a Cairn project, with `git fast-import`
/// (so a history of 100k commits takes seconds, not hours).
struct GitPeer {
    let dir: String

    init(dir: String) throws {
        self.dir = dir
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Shell.run("git", ["init", "-q", "-b", "main"], cwd: dir)
    }

    /// One commit on `branch` (from `from` if given) writing `files`.
    static func commitStream(branch: String, from: String? = nil, message: String, files: [(String, String)], time: Int) -> String {
        var s = "commit refs/heads/\(branch)\ncommitter b <b@b> \(time) +0000\ndata \(message.utf8.count)\n\(message)\n"
        if let from { s += "from \(from)\n" }
        for (path, content) in files { s += "M 100644 inline \(path)\ndata \(content.utf8.count)\n\(content)\n" }
        return s
    }

    func fastImport(_ stream: String) throws {
        let r = try Shell.run("git", ["fast-import", "--quiet", "--force"], cwd: dir, stdin: Data(stream.utf8))
        guard r.status == 0 else { throw BenchError("git fast-import failed") }
    }

    func git(_ args: [String], env: [String: String] = [:]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git"] + args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        var e = ProcessInfo.processInfo.environment
        e["GIT_AUTHOR_NAME"] = "b"
        e["GIT_AUTHOR_EMAIL"] = "b@b"
        e["GIT_COMMITTER_NAME"] = "b"
        e["GIT_COMMITTER_EMAIL"] = "b@b"
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw BenchError("git \(args.joined(separator: " ")) failed") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Bytes of loose objects (what a plain `git commit` adds before any repack).
    func looseObjectBytes() -> Int {
        let objects = URL(fileURLWithPath: dir).appendingPathComponent(".git/objects")
        var total = 0
        for sub in (try? FileManager.default.contentsOfDirectory(atPath: objects.path)) ?? [] where sub.count == 2 {
            let d = objects.appendingPathComponent(sub)
            for f in (try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? [] {
                total += ((try? FileManager.default.attributesOfItem(atPath: d.appendingPathComponent(f).path))?[.size] as? Int) ?? 0
            }
        }
        return total
    }

    /// A one-file commit on main through plumbing (no work tree needed, loose objects as `git commit` makes).
    func plumbingCommit(path: String, content: String, index: String) throws {
        let blob = try gitInput(["hash-object", "-w", "--stdin"], content)
        _ = try git(["update-index", "--add", "--cacheinfo", "100644,\(blob),\(path)"], env: ["GIT_INDEX_FILE": index])
        let tree = try git(["write-tree"], env: ["GIT_INDEX_FILE": index])
        let commit = try git(["commit-tree", tree, "-p", "main", "-m", "one file"])
        _ = try git(["update-ref", "refs/heads/main", commit])
    }

    private func gitInput(_ args: [String], _ input: String) throws -> String {
        let r = try Shell.run("git", args, cwd: dir, stdin: Data(input.utf8))
        guard r.status == 0 else { throw BenchError("git \(args.joined(separator: " ")) failed") }
        return String(decoding: r.out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
