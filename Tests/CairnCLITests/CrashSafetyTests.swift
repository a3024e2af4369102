import CairnCore
import CairnSQLite
import CairnStore
import CairnTestSupport
import Foundation
import Testing

@Suite struct CrashSafetyTests {
    /// SIGKILLs a process that commits in a loop, several times, and checks that every commit it
    /// acknowledged survived, reads back, and that `cairn verify` is clean.
    @Test func everyAcknowledgedCommitSurvivesSIGKILL() async throws {
        let cli = try CLIHarness()
        var acked: [(commit: String, path: String, content: String)] = []
        for round in 0..<3 {
            let log = cli.data.appendingPathComponent("acks-\(round).txt")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let process = Process()
            process.executableURL = CLIHarness.binDirectory.appendingPathComponent("CairnTorture")
            process.arguments = [cli.store, cli.project, "8"]
            process.standardOutput = try FileHandle(forWritingTo: log)
            try process.run()
            // Let it commit for a while, at a different moment each round, then kill it mid-flight.
            var lines = 0
            let deadline = Date().addingTimeInterval(20)
            while lines < 150 * (round + 1) && Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
                lines = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").count ?? 0
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            let text = try String(contentsOf: log, encoding: .utf8)
            for line in text.split(separator: "\n", omittingEmptySubsequences: true)
            where text.hasSuffix("\n") || line != text.split(separator: "\n").last {
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count == 4, parts[0] == "ack" else { continue }
                acked.append((String(parts[1]), String(parts[2]), String(parts[3])))
            }
        }
        #expect(acked.count >= 300)

        let storage = try await cli.openStorage()
        let project = try await Repository(storage: storage).project(
            cli.project,
            organization: Repository(storage: storage).organization("default").id
        )
        // Every acknowledged commit is on main's history and holds what its writer wrote.
        let history = try await TestBackend.history(storage, project: cli.project)
        for ack in acked {
            #expect(history.contains(ack.commit), "acknowledged commit \(ack.commit) was lost")
        }
        for ack in acked.shuffled().prefix(100) {
            #expect(try await project.read(ack.path, at: ack.commit).lines == [ack.content])
        }
        let verify = cli.run("verify")
        #expect(verify.status == 0, "verify after crashes: \(verify.stdout)")
    }
}
