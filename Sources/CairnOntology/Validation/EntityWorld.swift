import CairnCore
import CairnStore
import Crypto

/// The files a validation reads: a tree with a change laid over it. Every read is remembered,
/// so the commit can be refused if any of them changes before it lands.
public protocol EntityWorld: Sendable {
    func read(_ path: String) async throws -> [UInt8]?
    func paths(prefix: String) async throws -> [String]
}

extension StagedCommit: EntityWorld {}

/// The backlink index: which entities link to a path. It lives in the tree itself, one small
/// file per (target, source) pair under `.cairn/links/`, kept by the validator in the same
/// commit as the change, so it is versioned with the data: every commit's index is right for
/// that commit, merges and reverts carry it along, and "who links to X" is one prefix scan.
public enum LinkIndex {
    public static let root = ".cairn/links/"

    static func digest(_ s: String) -> String {
        Hex.encode(Array(SHA256.hash(data: Array(s.utf8))).prefix(10))
    }

    public static func prefix(target: String) -> String { root + digest(target) + "/" }
    public static func marker(target: String, source: String) -> String { prefix(target: target) + digest(source) }
}

/// Reads of one validation run, parsed once and remembered. Used by one task at a time.
final class WorldReader: @unchecked Sendable {
    // @unchecked: one validation run owns it; nothing shares it across tasks.
    let world: any EntityWorld
    private var files: [String: [UInt8]?] = [:]
    private var entities: [String: Entity?] = [:]
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
    }

    func entity(_ path: String) async throws -> Entity? {
        if let known = entities[path] { return known }
        let e = try await bytes(path).flatMap { Entity(path: path, bytes: $0) }
        entities[path] = e
        return e
    }

    /// The entities that link to `path` (by link or reference property), from the index.
    func referrers(of path: String) async throws -> [String] {
        var out: [String] = []
        for marker in try await world.paths(prefix: LinkIndex.prefix(target: path)) {
            if let b = try await bytes(marker) { out.append(String(decoding: b, as: UTF8.self)) }
        }
        return out.sorted()
    }
}
