import CairnCore

/// A commit with its id, as history shows it.
public struct CommitInfo: Sendable, Codable, Equatable {
    public let id: ObjectID
    public let tree: ObjectID
    public let parents: [ObjectID]
    public let author: String
    public let onBehalfOf: String?
    public let actorKind: ActorKind
    public let runID: String?
    public let step: Int?
    public let time: String
    public let timeMillis: Millis
    public let message: String
    public let approvals: [ObjectID]

    init(id: ObjectID, _ c: Commit) {
        self.id = id
        tree = c.tree
        parents = c.parents
        author = c.author
        onBehalfOf = c.onBehalfOf
        actorKind = c.actorKind
        runID = c.runID
        step = c.step
        time = Clock.rfc3339(c.timeMillis)
        timeMillis = c.timeMillis
        message = c.message
        approvals = c.approvals
    }
}

/// One page of a log; `next` continues it, nil on the last page.
public struct LogPage: Sendable, Codable, Equatable {
    public let commits: [LogEntry]
    public let next: String?

    public init(commits: [LogEntry], next: String?) {
        self.commits = commits
        self.next = next
    }
}

/// A commit in a log, and how it changed the path asked about.
public struct LogEntry: Sendable, Codable, Equatable {
    public let commit: CommitInfo
    /// With a path log: what the commit did to the path.
    public let change: ChangeKind?
    /// For a caller whose access is limited to some paths: the paths of the commit it may see.
    public let paths: [String]?

    public init(commit: CommitInfo, change: ChangeKind?, paths: [String]? = nil) {
        self.commit = commit
        self.change = change
        self.paths = paths
    }
}

/// One changed file between two trees; for JSON files, the changed pointers too.
public struct FileDiff: Sendable, Codable, Equatable {
    public let path: String
    public let change: ChangeKind
    public let before: ObjectID?
    public let after: ObjectID?
    public let json: [JSONChange]?
}

/// The files changed between two commits, a page at a time.
public struct DiffResult: Sendable, Codable, Equatable {
    public let from: ObjectID
    public let to: ObjectID
    public let files: [FileDiff]
    /// The cursor for the next page (the last path returned), nil when complete.
    public let next: String?

    public init(from: ObjectID, to: ObjectID, files: [FileDiff], next: String?) {
        self.from = from
        self.to = to
        self.files = files
        self.next = next
    }

    public var added: Int { files.filter { $0.change == .added }.count }
    public var modified: Int { files.filter { $0.change == .modified }.count }
    public var deleted: Int { files.filter { $0.change == .deleted }.count }
}

/// A commit with the files it changed.
public struct CommitDetail: Sendable, Codable, Equatable {
    public let commit: CommitInfo
    public let files: [FileDiff]

    public init(commit: CommitInfo, files: [FileDiff]) {
        self.commit = commit
        self.files = files
    }
}

/// Who last set one value of a JSON file.
public struct BlameEntry: Sendable, Codable, Equatable {
    public let pointer: String
    public let value: JSONValue
    public let commit: ObjectID
    public let author: String
    public let time: String
    public let message: String
}
