import CairnCompute
import CairnCore
import CairnStore
import Crypto
import Synchronization

/// What a Run knows of a project's road files without reading them again: which files a glob
/// names at a commit (the road set, named by one content id), and the network built from each
/// road set. A Run at a commit already seen, or at one whose changes since touch none of the
/// glob's files (found by diffing the two trees: a cost in the changes, not in the files), is
/// served without a lookup per road file.
///
/// Only callers who see every path of the project use the commit-keyed entries: what a
/// path-limited credential's glob matches depends on the credential, so its road set is always
/// gathered file by file (and its network still shared when the content is the same).
final class RoadCache: Sendable {
    /// The road files a glob names at a commit, with the blob each was read as.
    struct RoadSet: Sendable {
        /// SHA-256 over each path and blob id (hex) in path order: equal content, equal id.
        let id: String
        let files: [RunInput]

        init(files: [RunInput]) {
            var hasher = SHA256()
            for f in files { hasher.update(data: Array(f.path.utf8) + [0] + Array(f.blob.utf8) + [0]) }
            self.id = Hex.encode(Array(hasher.finalize()))
            self.files = files
        }
    }

    /// project id | commit | glob → road set.
    private let sets = Mutex<[String: RoadSet]>([:])
    /// project id | glob → the commit most recently resolved, to diff a new commit against.
    private let latest = Mutex<[String: (commit: ObjectID, set: RoadSet)]>([:])
    /// road set id | classes → network.
    private let networks = Mutex<[String: RoadNetwork]>([:])

    static let maxSets = 512
    static let maxNetworks = 8
    /// Past this many changed files since the last commit seen, gathering file by file is as cheap.
    static let maxDiff = 2_000

    func set(project: Int64, commit: ObjectID, glob: String) -> RoadSet? {
        sets.withLock { $0["\(project)|\(commit.hex)|\(glob)"] }
    }

    func remember(_ set: RoadSet, project: Int64, commit: ObjectID, glob: String) {
        sets.withLock {
            if $0.count >= Self.maxSets { $0.removeAll() }
            $0["\(project)|\(commit.hex)|\(glob)"] = set
        }
        latest.withLock { $0["\(project)|\(glob)"] = (commit, set) }
    }

    func latest(project: Int64, glob: String) -> (commit: ObjectID, set: RoadSet)? {
        latest.withLock { $0["\(project)|\(glob)"] }
    }

    func network(_ key: String) -> RoadNetwork? { networks.withLock { $0[key] } }

    func remember(_ network: RoadNetwork, key: String) {
        networks.withLock {
            if $0.count >= Self.maxNetworks { $0.removeAll() }
            $0[key] = network
        }
    }
}
