import CairnCore
@_spi(StoreWrites) import CairnStore
import Foundation

/// The six file operations; each change goes down the write path (Gateway+WritePath.swift).
extension Gateway {
    /// The branch a ref reads from, for branch-scoped grants: `main`, `main@T` and `main~2`
    /// read `main`; a bare commit id reads no branch.
    static func branch(of ref: String) -> String? {
        var name = ref
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        if let tilde = name.firstIndex(of: "~") { name = String(name[..<tilde]) }
        if name.count >= 4 && name.allSatisfy(\.isHexDigit) { return nil }
        return name.isEmpty ? nil : name
    }

    /// The ontology file, `.cairn/ontology.json` (and anything beside it under `.cairn/ontology`).
    static let ontologyRoot = ".cairn/ontology"

    static func touchesOntology(_ change: FileChange) -> Bool {
        switch change {
        case .write(let path, _), .edit(let path, _, _, _), .delete(let path):
            path.hasPrefix(ontologyRoot) || (Glob.hasWildcards(path) && path.hasPrefix(".cairn/"))
        }
    }

    static func touchesWorkflows(_ change: FileChange) -> Bool {
        switch change {
        case .write(let path, _), .edit(let path, _, _, _), .delete(let path): path.hasPrefix(WorkflowDefinition.root)
        }
    }

    /// Writes under `.cairn/` change a project's configuration: they need `configure`.
    static func authority(forChanging path: String, _ base: Authority) -> Authority {
        path.hasPrefix(".cairn/") ? .configure : base
    }

    /// Reads a page of a file's lines at a ref (needs `read` on the path).
    public func read(
        _ caller: Caller,
        project name: String,
        path: String,
        at ref: String = "main",
        offset: Int = 1,
        limit: Int = 2000
    ) async throws -> FileLines {
        try checkPath(path)
        let (project, _) = try await open(caller, name, .read, branch: Self.branch(of: ref), path: path, action: "file.read")
        return try await project.read(path, at: ref, offset: offset, limit: limit)
    }

    /// Reads a file's bytes at a ref, with the commit and blob read: what provenance records.
    public func readBytes(
        _ caller: Caller,
        project name: String,
        path: String,
        at ref: String = "main"
    ) async throws -> (ResolvedRef, ObjectID, [UInt8]) {
        try checkPath(path)
        let (project, _) = try await open(caller, name, .read, branch: Self.branch(of: ref), path: path, action: "file.read")
        return try await project.readBytes(path, at: ref)
    }

    /// The paths matching a glob at a ref, a page at a time; a path-limited caller sees only its
    /// own paths, so pages never reveal the others.
    public func glob(
        _ caller: Caller,
        project name: String,
        pattern: String,
        at ref: String = "main",
        limit: Int = 1000,
        after: String? = nil
    ) async throws -> PathPage {
        try checkPattern(pattern)
        let branch = Self.branch(of: ref)
        let (project, _) = try await open(caller, name, .read, branch: branch, action: "file.glob")
        // Hidden paths are skipped inside the scan: a page is full of paths the caller may read,
        // and its cursor (opaque) is the last of them, never a path the caller may not see.
        let visible = try await visibility(caller, project: name, branch: branch)
        let page = try await project.glob(pattern, at: ref, limit: limit, after: try after.map(Self.decodeCursor), visible: visible)
        return PathPage(paths: page.paths, next: page.next.map(Self.encodeCursor))
    }

    /// The files matching a glob at a ref with their bytes, a page at a time: `glob` and
    /// `readBytes` in one pass (one tree scan, one batched fetch), with the same rule that a
    /// path-limited caller sees only its own files. `after` is a path (not a cursor): callers page
    /// within one request and give clients their own cursors.
    public func files(
        _ caller: Caller,
        project name: String,
        pattern: String,
        at ref: String,
        limit: Int = 500,
        after: String? = nil
    ) async throws -> FilePage {
        try checkPattern(pattern)
        let branch = Self.branch(of: ref)
        let (project, _) = try await open(caller, name, .read, branch: branch, action: "file.glob")
        let visible = try await visibility(caller, project: name, branch: branch)
        return try await project.files(matching: pattern, at: ref, limit: limit, after: after, visible: visible)
    }

    /// Which paths a listing shows the caller: nil (all) unless its grants or key are limited to
    /// some paths, then the read decision per path, under the policy in force for this call.
    private func visibility(_ caller: Caller, project name: String, branch: String?) async throws -> (@Sendable (String) -> Bool)? {
        let policy = try await policy(for: caller)
        let principal = caller.principal
        guard policy.hasPathRules(principal, project: name) else { return nil }
        return { (path: String) in policy.decide(principal, .read, AccessTarget(project: name, branch: branch, path: path)).allowed }
    }

    /// Listing cursors are opaque: base64url of a versioned form, so clients never build or read them.
    static func encodeCursor(_ position: String) -> String {
        Data(("c1:" + position).utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/",
            with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }

    static func decodeCursor(_ cursor: String) throws -> String {
        var b64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard cursor.utf8.count <= 4096, let data = Data(base64Encoded: b64), let text = String(data: data, encoding: .utf8),
            text.hasPrefix("c1:")
        else {
            throw CairnError(.invalidArgument, "this cursor is not one a listing gave; start again without it")
        }
        return String(text.dropFirst(3))
    }

    /// Searches file contents with PCRE2 off the request executor, within the caller's share of
    /// search time, over the paths it may read.
    public func grep(_ caller: Caller, project name: String, query: GrepQuery, at ref: String = "main") async throws -> GrepResult {
        try checkPattern(query.pattern)
        if let g = query.glob { try checkPattern(g) }
        let branch = Self.branch(of: ref)
        let (project, _) = try await open(caller, name, .read, branch: branch, action: "file.grep")
        // Matching time is shared fairly: each credential has a budget of search seconds that
        // refills over time, and each search its own ceiling (see `GatewayLimits`).
        let who = caller.principal.credential == "oidc" ? caller.principal.subject : caller.principal.credential
        guard grepTime.hasToken(who) else {
            throw CairnError(
                .rateLimited,
                "this credential has used its share of search time; retry in a few seconds",
                details: ["retryAfterSeconds": "5"]
            )
        }
        let budget = GrepBudget(seconds: limits.grepSecondsPerRequest)
        // Charged with the matching time the search used, whether it finished or not.
        defer { grepTime.charge(who, budget.seconds) }
        var result = try await project.grep(query, at: ref, budget: budget)
        let policy = try await policy(for: caller)
        if policy.hasPathRules(caller.principal, project: name) {
            let allowed = { (path: String) in
                policy.decide(caller.principal, .read, AccessTarget(project: name, branch: branch, path: path)).allowed
            }
            result.files = result.files.filter(allowed)
            result.lines = result.lines.filter { allowed($0.path) }
            result.counts = result.counts.filter { allowed($0.path) }
        }
        return result
    }

    /// The paths of `paths` the caller may read (all of them unless path-scoped rules exist).
    func readable(_ caller: Caller, project: String, branch: String?, paths: [String]) async throws -> [String] {
        let policy = try await policy(for: caller)
        guard policy.hasPathRules(caller.principal, project: project) else { return paths }
        return paths.filter { policy.decide(caller.principal, .read, AccessTarget(project: project, branch: branch, path: $0)).allowed }
    }

    /// Writes a whole file as one commit, down the write path.
    @discardableResult
    public func write(
        _ caller: Caller,
        project: String,
        path: String,
        content: [UInt8],
        branch: String = "main",
        basedOn: ObjectID? = nil
    ) async throws -> CommitOutcome {
        try await commit(
            caller,
            project: project,
            changes: [.write(path: path, content: content)],
            branch: branch,
            basedOn: basedOn,
            action: "file.write"
        )
    }

    /// Replaces an exact piece of a file as one commit; the old text must occur once unless every
    /// occurrence is asked for.
    @discardableResult
    public func edit(
        _ caller: Caller,
        project: String,
        path: String,
        old: String,
        new: String,
        replaceAll: Bool = false,
        branch: String = "main"
    ) async throws -> CommitOutcome {
        try await commit(
            caller,
            project: project,
            changes: [.edit(path: path, old: old, new: new, replaceAll: replaceAll)],
            branch: branch,
            action: "file.edit"
        )
    }

    /// Deletes a file, or every file a glob matches (each authorized), as one commit.
    @discardableResult
    public func delete(_ caller: Caller, project: String, pathOrGlob: String, branch: String = "main") async throws -> CommitOutcome {
        try await commit(caller, project: project, changes: [.delete(pathOrGlob)], branch: branch, action: "file.delete")
    }
}
