import CairnCore
import CairnStore
import Crypto

/// The files a validation reads: a tree with a change laid over it. Every read is remembered,
/// so the commit can be refused if any of them changes before it lands.
public protocol EntityWorld: Sendable {
    func read(_ path: String) async throws -> [UInt8]?
    /// Several files at once (a world backed by a store fetches them in one round trip).
    func read(_ paths: [String]) async throws -> [String: [UInt8]?]
    func paths(prefix: String) async throws -> [String]
}

extension StagedCommit: EntityWorld {}

/// The backlink index: which entities link to a path. It lives in the tree itself, one empty
/// file per (target, source) pair, `.cairn/links/<digest of target>/<source path>`, kept by the
/// validator in the same commit as the change, so it is versioned with the data: every
/// commit's index is right for that commit, merges and reverts carry it along, and "who links
/// to X" is one prefix scan that reads no file.
public enum LinkIndex {
    public static let root = ".cairn/links/"

    static func digest(_ s: String) -> String {
        Hex.encode(Array(SHA256.hash(data: Array(s.utf8))).prefix(10))
    }

    /// Where the backlinks to a target live: under a digest of its path, so finding who links to it
    /// is one prefix scan.
    public static func prefix(target: String) -> String { root + digest(target) + "/" }
    /// The marker that says `source` links to `target`.
    public static func marker(target: String, source: String) -> String { prefix(target: target) + source }
}

/// Reads of one validation run, parsed once and remembered. Used by one task at a time.
final class WorldReader: @unchecked Sendable {
    // @unchecked: one validation run owns it; nothing shares it across tasks.
    let world: any EntityWorld
    private var files: [String: [UInt8]?] = [:]
    private var entities: [String: Entity?] = [:]
    /// The entity type index governing each path read so far (glob matching is the costly part).
    var typeIndexes: [String: Int?] = [:]
    private(set) var reads: Set<String> = []

    init(_ world: any EntityWorld) { self.world = world }

    func bytes(_ path: String) async throws -> [UInt8]? {
        if let known = files[path] { return known }
        let b = try await world.read(path)
        files[path] = b
        reads.insert(path)
        return b
    }

    /// Reads `path` as `bytes` from now on (a file the validation itself rewrites, e.g. with defaults).
    func override(_ path: String, _ bytes: [UInt8]) {
        files[path] = .some(bytes)
        entities[path] = nil
        typeIndexes[path] = nil
    }

    /// Reads the files not yet read in one batch: the targets of an entity's links, the
    /// entities behind index markers.
    func prefetch(_ paths: [String]) async throws {
        let missing = Array(Set(paths.filter { files[$0] == nil }))
        guard missing.count > 1 else { return }
        for (path, content) in try await world.read(missing) {
            files[path] = content
            reads.insert(path)
        }
    }

    func entity(_ path: String) async throws -> Entity? {
        if let known = entities[path] { return known }
        let e = try await bytes(path).flatMap { Entity(path: path, bytes: $0) }
        entities[path] = e
        return e
    }

    /// Index entries this validation derives, seen as if already written.
    private var derived: [String: [UInt8]?] = [:]

    func derive(_ writes: [String: [UInt8]?]) {
        for (path, content) in writes where path.hasPrefix(LinkIndex.root) || path.hasPrefix(SpatialIndex.root) {
            derived[path] = content
            files[path] = content
        }
    }

    /// The entities that link to `path` (by link or reference property), from the index.
    func referrers(of path: String) async throws -> [String] {
        let out = try await entries(under: LinkIndex.prefix(target: path))
        try await prefetch(out)
        return out
    }

    /// The paths the index entries under `prefix` name (the rest of each entry's path), as this
    /// validation leaves the index. Reads no file: the tree's keys say it all.
    func entries(under prefix: String) async throws -> [String] {
        var markers = Set(try await world.paths(prefix: prefix))
        for (marker, content) in derived where marker.hasPrefix(prefix) {
            if content == nil { markers.remove(marker) } else { markers.insert(marker) }
        }
        return markers.map { String($0.dropFirst(prefix.count)) }.sorted()
    }
}
