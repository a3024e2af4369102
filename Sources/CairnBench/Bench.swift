import CairnCore
import CairnSQLite
@_spi(StoreWrites) import CairnStore
import Foundation

/// `CairnBench [--quick] [--only NAME,…] [--dir DIR]`: the figures of BENCHMARKS.md, each beside a
/// peer measured in the same run on the same data. Build with `-c release` (scripts/bench.sh).
@main
struct Bench {
    let quick: Bool
    let root: URL
    let report = Report()

    static func main() async throws {
        let args = CommandLine.arguments
        let quick = args.contains("--quick")
        var only: Set<String>? = nil
        if let i = args.firstIndex(of: "--only"), i + 1 < args.count { only = Set(args[i + 1].split(separator: ",").map(String.init)) }
        var dir = ".bench"
        if let i = args.firstIndex(of: "--dir"), i + 1 < args.count { dir = args[i + 1] }
        let root = URL(fileURLWithPath: dir).appendingPathComponent("run-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let bench = Bench(quick: quick, root: root)
        print("## Run of \(Clock.rfc3339(Clock.nowMillis()))\(quick ? " (quick scale)" : "")\n")
        print(
            "Machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB; "
                + "\(Self.uname())."
        )
        func want(_ name: String) -> Bool { only?.contains(name) ?? true }
        if want("commits") { try await bench.commitThroughput() }
        if want("size") { try await bench.commitSizeAndDiff() }
        if want("read") { try await bench.readLatency() }
        if want("search") { try await bench.globAndGrep() }
        if want("merge") { try await bench.mergeScaling() }
        if want("governed") { try await bench.governedWrites() }
        if want("authz") { try await bench.authorizationDecisions() }
        if want("ontology") { try await bench.ontologyValidation() }
        if want("routes") { try await bench.routes() }
        if want("routes-http") { try await bench.routesOverHTTP() }
        if want("solve") { try await bench.solveDispatch() }
        if want("facility") { try await bench.facilitySolve() }
        if want("agents") { try await bench.agentSurface() }
        if want("backends") { try await bench.storeBackends() }
        if want("workflows") { try await bench.workflows() }
        if want("features") { try await bench.featureService() }
        if want("console") { try await bench.consoleRender() }
        if want("bbox") { try await bench.spatialIndex() }
    }

    static func uname() -> String {
        (try? String(decoding: Shell.run("uname", ["-sr"]).out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? "?"
    }

    func freshStore(_ name: String) throws -> (SQLiteStorage, Repository) {
        let path = root.appendingPathComponent("\(name).sqlite").path
        let storage = try SQLiteStorage(path: path)
        return (storage, Repository(storage: storage))
    }

    func makeProject(_ repo: Repository, _ name: String) async throws -> Project {
        var org = try await repo.storage.organization(named: "bench")
        if org == nil { org = try await repo.createOrganization(name: "bench") }
        guard let org else { throw CairnError(.storage, "no bench organization") }
        _ = try await repo.createProject(name: name, organization: org.id, metadata: CommitMetadata(author: "bench", message: "create"))
        return try await repo.project(name, organization: org.id)
    }

    static let meta = CommitMetadata(author: "bench", message: "bench")
}
