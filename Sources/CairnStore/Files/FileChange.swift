import CairnCore

/// One change in an atomic multi-file commit.
public enum FileChange: Sendable, Equatable {
    /// Create or overwrite.
    case write(path: String, content: [UInt8])
    /// Replace `old` by `new`; `old` must occur exactly once unless `replaceAll`.
    case edit(path: String, old: String, new: String, replaceAll: Bool)
    /// Remove one path, or every path a glob matches.
    case delete(String)
}

/// A change as JSON, the same for `POST …/commits` and `cairn apply`:
/// `{"op": "write"|"edit"|"delete", "path", "content"?, "old"?, "new"?, "replaceAll"?}`.
public struct FileChangeInput: Sendable, Decodable {
    public let op: String
    public let path: String
    public let content: String?
    public let old: String?
    public let new: String?
    public let replaceAll: Bool?
    /// The command line's older name for `replaceAll`.
    public let all: Bool?

    /// The change it describes; `position` (1-based) names it in errors.
    public func change(position: Int) throws(CairnError) -> FileChange {
        switch op {
        case "write":
            guard let content else {
                throw CairnError(.invalidArgument, "change \(position): a write needs \"content\"", details: ["path": path])
            }
            return .write(path: path, content: Array(content.utf8))
        case "edit":
            guard let old, let new else {
                throw CairnError(.invalidArgument, "change \(position): an edit needs \"old\" and \"new\"", details: ["path": path])
            }
            return .edit(path: path, old: old, new: new, replaceAll: replaceAll ?? all ?? false)
        case "delete":
            return .delete(path)
        default:
            throw CairnError(.invalidArgument, "change \(position): unknown op '\(op)'; use write, edit or delete", details: ["op": op])
        }
    }

    /// Turns the API's change descriptions into changes, refusing a malformed one before anything
    /// is staged.
    public static func changes(_ inputs: [FileChangeInput]) throws(CairnError) -> [FileChange] {
        var out: [FileChange] = []
        for (i, input) in inputs.enumerated() { out.append(try input.change(position: i + 1)) }
        return out
    }
}

/// Lines of a file as of a commit.
public struct FileLines: Sendable, Codable, Equatable {
    public let path: String
    public let commit: ObjectID
    public let blob: ObjectID
    /// 1-based number of the first line returned.
    public let startLine: Int
    public let lines: [String]
    public let totalLines: Int
    /// True when lines after the returned ones exist.
    public let hasMore: Bool
}

/// A page of paths; `next` is the cursor for the following page, nil on the last one.
public struct PathPage: Sendable, Codable, Equatable {
    public let paths: [String]
    public let next: String?

    public init(paths: [String], next: String?) {
        self.paths = paths
        self.next = next
    }
}

/// What a search answers: the files, the lines, or the counts.
public enum GrepMode: String, Sendable, Codable, CaseIterable {
    case files, content, count
}

/// A search: the pattern, which files, what to answer, and its limits.
public struct GrepQuery: Sendable {
    public var pattern: String
    public var glob: String?
    public var mode: GrepMode
    public var caseInsensitive: Bool
    public var contextLines: Int
    /// At most this many results (files, lines or counts); more set `truncated`.
    public var headLimit: Int?

    public init(
        pattern: String,
        glob: String? = nil,
        mode: GrepMode = .files,
        caseInsensitive: Bool = false,
        contextLines: Int = 0,
        headLimit: Int? = nil
    ) {
        self.pattern = pattern
        self.glob = glob
        self.mode = mode
        self.caseInsensitive = caseInsensitive
        self.contextLines = contextLines
        self.headLimit = headLimit
    }
}

/// A matching line with its number and the context around it.
public struct GrepLine: Sendable, Codable, Equatable {
    public let path: String
    public let line: Int
    public let text: String
    public let before: [String]
    public let after: [String]

    public init(path: String, line: Int, text: String, before: [String], after: [String]) {
        self.path = path
        self.line = line
        self.text = text
        self.before = before
        self.after = after
    }
}

/// How many lines of a file match.
public struct GrepCount: Sendable, Codable, Equatable {
    public let path: String
    public let count: Int

    public init(path: String, count: Int) {
        self.path = path
        self.count = count
    }
}

/// A search's answer at one commit; `truncated` says a limit was reached, never silently.
public struct GrepResult: Sendable, Codable, Equatable {
    public let mode: GrepMode
    public let commit: ObjectID
    public var files: [String] = []
    public var lines: [GrepLine] = []
    public var counts: [GrepCount] = []
    public var filesSearched = 0
    /// True when the head limit cut the results: more matches exist.
    public var truncated = false

    var count: Int {
        switch mode {
        case .files: files.count
        case .content: lines.count
        case .count: counts.count
        }
    }

    /// Appends the results of the next chunk; true when the head limit is reached.
    mutating func absorb(_ part: GrepResult, limit: Int) -> Bool {
        filesSearched += part.filesSearched
        let room = limit - count
        switch mode {
        case .files: files += part.files.prefix(room)
        case .content: lines += part.lines.prefix(room)
        case .count: counts += part.counts.prefix(room)
        }
        if part.count > room || part.truncated {
            truncated = true
            return true
        }
        return false
    }
}
