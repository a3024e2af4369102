import ArgumentParser
import CairnCore
import CairnGovernance
import CairnSQLite
import CairnStore
import Foundation

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The data folder (default: $CAIRN_DATA, else ./cairn-data).", valueName: "dir"))
    var data: String?

    @Flag(name: .long, help: "Print one JSON document (or a JSON error) instead of text.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("The organization (default: $CAIRN_ORG, else 'default').", valueName: "name"))
    var org: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A PostgreSQL store, postgres://USER@HOST:PORT/DB (default: $CAIRN_DATABASE_URL; without one, SQLite in the data folder). "
                + "Give the password in $CAIRN_DATABASE_PASSWORD or a file named by $CAIRN_DATABASE_PASSWORD_FILE.",
            valueName: "url"
        )
    )
    var databaseURL: String?

    var organizationName: String {
        org ?? ProcessInfo.processInfo.environment["CAIRN_ORG"] ?? "default"
    }

    var dataFolder: String {
        data ?? ProcessInfo.processInfo.environment["CAIRN_DATA"] ?? "cairn-data"
    }

    var console: Console { Console(json: json) }

    func storeLocation() throws -> StoreLocation {
        try StoreLocation.resolve(databaseURL: databaseURL, passwordFile: nil, dataFolder: dataFolder)
    }

    /// Opens the existing store; a missing one is an error that says how to make it.
    func openRepository() async throws -> Repository {
        let location = try storeLocation()
        if case .sqlite(let path) = location, !FileManager.default.fileExists(atPath: path) {
            throw CairnError(
                .notFound,
                "no Cairn data in '\(dataFolder)'; run `cairn init` first, or point --data (or CAIRN_DATA) at it",
                details: ["data": dataFolder]
            )
        }
        return Repository(storage: try await location.open(migrate: false))
    }

    /// The organization the command works in; with `create`, made on first use.
    func organization(_ repo: Repository, create: Bool = false) async throws -> OrganizationRecord {
        if let found = try await repo.storage.organization(named: organizationName) { return found }
        // Made as the server makes one: with its system project and an audited creation.
        if create { return try await Tenancy.ensure(organizationName, repository: repo).0 }
        throw CairnError(
            .notFound,
            "no organization named '\(organizationName)' in \((try? storeLocation())?.description ?? dataFolder); `cairn init` makes "
                + "the default one",
            details: ["organization": organizationName]
        )
    }
}

/// Options of commands that work inside one project.
struct ProjectOptions: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp("The project (default: $CAIRN_PROJECT).", valueName: "name"))
    var project: String?

    /// The Gateway and caller for a read of this project: reads take the Gateway's path too,
    /// authorized like every surface's, never the store's back door.
    func reading(_ global: GlobalOptions) async throws -> LocalAccess {
        try await LocalAccess(global, project: self, author: nil, reason: nil)
    }
}

/// A command takes the Gateway's path like every other surface: authorized (the command line on
/// the server's machine holds the data folder, so it may do anything), a change committed with
/// who and why, audited in the same transaction. There is no unaudited way in.
struct LocalAccess {
    let gateway: Gateway
    let caller: Caller
    let project: String

    init(
        _ global: GlobalOptions,
        project options: ProjectOptions?,
        author: String?,
        reason: String?,
        createOrganization: Bool = false
    ) async throws {
        let repo = try await global.openRepository()
        let org = try await global.organization(repo, create: createOrganization)
        gateway = Gateway(repository: repo)
        caller = try await gateway.localCaller(organization: org, name: principal(author), reason: reason)
        project = try options?.name() ?? ""
    }
}

extension ProjectOptions {
    func name() throws -> String {
        guard let name = project ?? ProcessInfo.processInfo.environment["CAIRN_PROJECT"] else {
            throw CairnError(.invalidArgument, "which project? pass --project NAME or set CAIRN_PROJECT")
        }
        return name
    }

    /// The Gateway and caller for a change to this project.
    func change(_ global: GlobalOptions, _ commit: CommitOptions, default message: String) async throws -> LocalAccess {
        try await LocalAccess(global, project: self, author: commit.author, reason: commit.message ?? message)
    }
}

/// Where a reading command looks.
struct RefOptions: ParsableArguments {
    @Option(name: .long, help: "A branch, a commit (or unique prefix), REF~N, or branch@<RFC 3339 time>.")
    var at = "main"
}

/// Options of commands that commit.
struct CommitOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "The branch to commit to.")
    var branch = "main"

    @Option(name: [.short, .long], help: "Why: the commit message.")
    var message: String?

    @Option(name: .long, help: ArgumentHelp("Who: recorded as the author (default: $CAIRN_AUTHOR, else $USER).", valueName: "name"))
    var author: String?

    func metadata(default message: String) -> CommitMetadata {
        CommitMetadata(author: principal(author), message: self.message ?? message)
    }
}

/// Who acts: the explicit `--author`, else $CAIRN_AUTHOR, else $USER. (Until the server brings
/// authentication, the local CLI records the name it is given.)
func principal(_ explicit: String?) -> String {
    let env = ProcessInfo.processInfo.environment
    return explicit ?? env["CAIRN_AUTHOR"] ?? env["USER"] ?? "cli"
}

/// Runs a command body, turning a `CairnError` into the shared error output and exit code 1.
func runReporting(_ global: GlobalOptions, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CairnError {
        global.console.fail(error)
        // A damaged store exits 2, as `cairn verify` documents, whichever command met the damage.
        throw ExitCode(error.code == .corrupt ? 2 : 1)
    } catch let error as ExitCode {
        throw error
    } catch let pending as ApprovalPending {
        // Recorded and waiting: not a failure, but nothing was applied, which scripts must see (exit 3).
        let a = pending.approval
        global.console.emit(a) {
            "waiting for approval: request \(a.id) (\(a.summary)); an approver decides with `cairn approval decide \(a.id) approve -m WHY`"
        }
        throw ExitCode(3)
    } catch {
        global.console.fail(CairnError(.storage, "\(error)"))
        throw ExitCode(1)
    }
}
