import CairnCore
import CairnPostgres
import CairnSQLite
@_spi(StoreWrites) import CairnStore
import Foundation

/// `cairn-torture STORE PROJECT WRITERS`: commits forever from WRITERS concurrent tasks and
/// prints `ack <commit> <path> <content>` for each commit once it is durable.
///
/// The crash-safety test SIGKILLs it mid-flight and checks that every acknowledged commit survived.
@main
enum Torture {
    static func main() async throws {
        let args = CommandLine.arguments
        guard args.count == 4, let writers = Int(args[3]) else {
            FileHandle.standardError.write(
                Data("usage: cairn-torture STORE PROJECT WRITERS (STORE: a SQLite file or a postgres:// URL)\n".utf8)
            )
            exit(64)
        }
        let storage: any Storage =
            PostgresLocation.isURL(args[1])
            ? try await PostgresStorage.connect(PostgresLocation(url: args[1], password: PostgresLocation.password()), migrate: false)
            : try SQLiteStorage(path: args[1])
        let repo = Repository(storage: storage)
        let project = try await repo.project(args[2], organization: repo.organization("default").id)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    var i = 0
                    while true {
                        let path = "torture/w\(w)/\(i % 50).txt"
                        let content = "writer \(w) iteration \(i)"
                        let out = try await project.write(
                            path,
                            Array(content.utf8),
                            metadata: CommitMetadata(author: "torture", message: "w\(w) i\(i)")
                        )
                        if let commit = out.commit {
                            // One write call per line keeps lines whole when several tasks print.
                            FileHandle.standardOutput.write(Data("ack \(commit.hex) \(path) \(content)\n".utf8))
                        }
                        i += 1
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
