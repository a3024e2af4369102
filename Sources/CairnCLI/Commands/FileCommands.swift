import ArgumentParser
import CairnCore
import CairnGovernance
import CairnStore
import Foundation

struct Write: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or overwrite a file (content from --content, --file, or standard input)."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @OptionGroup var commit: CommitOptions
    @Argument(help: "The file's path in the project.") var path: String
    @Option(name: .long, help: "The content, as text.") var content: String?
    @Option(name: .long, help: "Read the content from this local file.") var file: String?

    func run() async throws {
        try await runReporting(global) {
            let bytes = try readContent(content: content, file: file)
            let c = try await project.change(global, commit, default: "write \(path)")
            let out = try await c.gateway.write(c.caller, project: c.project, path: path, content: bytes, branch: commit.branch)
            global.console.emit(out) { Format.outcome(out) }
        }
    }
}

func readContent(content: String?, file: String?) throws -> [UInt8] {
    switch (content, file) {
    case (let c?, nil):
        return Array(c.utf8)
    case (nil, let f?):
        return [UInt8](try readLocalFile(f))
    case (nil, nil):
        if isatty(0) == 1 {
            throw CairnError(.invalidArgument, "no content: pass --content TEXT, --file PATH, or pipe it on standard input")
        }
        return [UInt8](FileHandle.standardInput.readDataToEndOfFile())
    default:
        throw CairnError(.invalidArgument, "pass either --content or --file, not both")
    }
}

struct Read: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a file's lines as of a ref.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @Argument(help: "The file's path in the project.") var path: String
    @OptionGroup var ref: RefOptions
    @Option(name: .long, help: "The first line to print (1-based).") var offset = 1
    @Option(name: .long, help: "At most this many lines.") var limit = 2000

    func run() async throws {
        try await runReporting(global) {
            let r = try await project.reading(global)
            let out = try await r.gateway.read(r.caller, project: r.project, path: path, at: ref.at, offset: offset, limit: limit)
            global.console.emit(out) { out.lines.joined(separator: "\n") }
            if out.hasMore {
                global.console.note(
                    "(lines \(out.startLine)–\(out.startLine + out.lines.count - 1) of \(out.totalLines); more with --offset "
                        + "\(out.startLine + out.lines.count))"
                )
            }
        }
    }
}

struct Edit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace text in a file; the text must occur exactly once unless --all."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @OptionGroup var commit: CommitOptions
    @Argument(help: "The file's path in the project.") var path: String
    @Option(name: .long, help: "The text to replace.") var old: String
    @Option(name: .long, help: "The replacement.") var new: String
    @Flag(name: .long, help: "Replace every occurrence.") var all = false

    func run() async throws {
        try await runReporting(global) {
            let c = try await project.change(global, commit, default: "edit \(path)")
            let out = try await c.gateway.edit(
                c.caller,
                project: c.project,
                path: path,
                old: old,
                new: new,
                replaceAll: all,
                branch: commit.branch
            )
            global.console.emit(out) { Format.outcome(out) }
        }
    }
}

struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete files by path or glob, in one commit.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @OptionGroup var commit: CommitOptions
    @Argument(help: "Paths or globs.") var targets: [String]

    func validate() throws {
        if targets.isEmpty { throw ValidationError("name at least one path or glob to delete") }
    }

    func run() async throws {
        try await runReporting(global) {
            let c = try await project.change(global, commit, default: "delete \(targets.joined(separator: " "))")
            let out = try await c.gateway.commit(
                c.caller,
                project: c.project,
                changes: targets.map { .delete($0) },
                branch: commit.branch,
                action: "file.delete"
            )
            global.console.emit(out) { Format.outcome(out) }
        }
    }
}

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply a batch of writes, edits and deletes as one atomic commit.",
        discussion: """
            The batch is JSON: {"changes": [{"op": "write", "path": "a.json", "content": "…"}, \
            {"op": "edit", "path": "b.json", "old": "…", "new": "…", "all": false}, {"op": "delete", "path": "c/**"}]}
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @OptionGroup var commit: CommitOptions
    @Argument(help: "The batch file, or - for standard input.") var batch: String

    struct Batch: Decodable {
        let changes: [FileChangeInput]
    }

    func run() async throws {
        try await runReporting(global) {
            let data = try readLocalFile(batch)
            let parsed: Batch
            do { parsed = try JSONDecoder().decode(Batch.self, from: data) } catch {
                throw CairnError(.invalidArgument, "the batch is not valid JSON of the documented shape: \(error)")
            }
            let changes = try FileChangeInput.changes(parsed.changes)
            let c = try await project.change(global, commit, default: "apply \(changes.count) changes")
            let out = try await c.gateway.commit(c.caller, project: c.project, changes: changes, branch: commit.branch, action: "commit")
            global.console.emit(out) { Format.outcome(out) }
        }
    }
}

struct GlobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glob",
        abstract: "List paths matching a pattern (*, **, ?, [...], {a,b})."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @Argument(help: "The pattern.") var pattern: String
    @OptionGroup var ref: RefOptions
    @Option(name: .long, help: "One page of at most this many paths (default: all pages).") var limit: Int?
    @Option(name: .long, help: "Continue after this cursor (from a previous page).") var cursor: String?

    func run() async throws {
        try await runReporting(global) {
            let r = try await project.reading(global)
            var paths: [String] = []
            var next = cursor
            if let limit {
                let page = try await r.gateway.glob(r.caller, project: r.project, pattern: pattern, at: ref.at, limit: limit, after: cursor)
                paths = page.paths
                next = page.next
            } else {
                repeat {
                    let page = try await r.gateway.glob(
                        r.caller,
                        project: r.project,
                        pattern: pattern,
                        at: ref.at,
                        limit: 10_000,
                        after: next
                    )
                    paths += page.paths
                    next = page.next
                } while next != nil
            }
            global.console.emit(PathPage(paths: paths, next: next)) { paths.joined(separator: "\n") }
            if let next { global.console.note("(more: --cursor '\(next)')") }
        }
    }
}

struct Grep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Search file contents with a regular expression (PCRE2, bounded).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var project: ProjectOptions
    @Argument(help: "The regular expression.") var pattern: String
    @Option(name: .long, help: "Only paths matching this glob.") var glob: String?
    @Option(name: .long, help: "files (paths with a match), content (matching lines) or count.") var mode: GrepMode = .files
    @Flag(name: [.customShort("i"), .long], help: "Ignore case.") var ignoreCase = false
    @Option(name: [.customShort("C"), .long], help: "Lines of context around each match (content mode).") var context = 0
    @Option(name: .long, help: "At most this many results; says so when more exist.") var headLimit: Int?
    @OptionGroup var ref: RefOptions

    func run() async throws {
        try await runReporting(global) {
            let local = try await project.reading(global)
            let query = GrepQuery(
                pattern: pattern,
                glob: glob,
                mode: mode,
                caseInsensitive: ignoreCase,
                contextLines: context,
                headLimit: headLimit
            )
            let r = try await local.gateway.grep(local.caller, project: local.project, query: query, at: ref.at)
            global.console.emit(r) {
                switch r.mode {
                case .files: return r.files.joined(separator: "\n")
                case .count: return r.counts.map { "\($0.path):\($0.count)" }.joined(separator: "\n")
                case .content:
                    var out: [String] = []
                    for m in r.lines {
                        for (i, b) in m.before.enumerated() { out.append("\(m.path)-\(m.line - m.before.count + i)-\(b)") }
                        out.append("\(m.path):\(m.line):\(m.text)")
                        for (i, a) in m.after.enumerated() { out.append("\(m.path)-\(m.line + 1 + i)-\(a)") }
                    }
                    return out.joined(separator: "\n")
                }
            }
            if r.truncated { global.console.note("(stopped at the head limit of \(headLimit ?? 0); more matches exist)") }
        }
    }
}

extension GrepMode: ExpressibleByArgument {}

/// Reads a local file, a pipe (`<(…)`), or standard input for `-`.
func readLocalFile(_ path: String) throws -> Data {
    if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
    guard let handle = FileHandle(forReadingAtPath: path) else {
        throw CairnError(.notFound, "cannot read local file '\(path)'", details: ["file": path])
    }
    defer { try? handle.close() }
    return handle.readDataToEndOfFile()
}
