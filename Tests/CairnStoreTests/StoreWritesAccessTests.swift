import Foundation
import Testing

/// Only the governance and engine layers may write to the store: its mutators are SPI
/// (`@_spi(StoreWrites)`), so code that imports `CairnStore` plainly cannot call them, and no
/// surface module (HTTP, MCP, the command line) imports the SPI. Checked by the compiler itself:
/// a probe file is type-checked against the built modules.
@Suite struct StoreWritesAccessTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Each way to change the store without the Gateway, as a surface would try it.
    static let mutators = [
        #"_ = try await p.write("a.json", [], metadata: m)"#,
        #"_ = try await p.edit("a.json", old: "a", new: "b", metadata: m)"#,
        #"_ = try await p.delete("a.json", metadata: m)"#,
        #"_ = try await p.commit([.write(path: "a.json", content: [])], metadata: m)"#,
        #"_ = try await p.createBranch("b", from: "main", principal: "x")"#,
        #"try await p.deleteBranch("b", principal: "x")"#,
        #"_ = try await p.archiveBranch("b", principal: "x", reason: "y")"#,
        #"_ = try await p.merge(source: "b", into: "main", metadata: m)"#,
        #"_ = try await r.createOrganization(name: "o")"#,
        #"_ = try await r.createProject(name: "p", organization: 1, metadata: m)"#,
        #"try await s.apply(WriteBatch())"#,
        #"_ = try await s.createOrganization(name: "o", timeMillis: 0)"#,
        #"try await s.loadRows(.object, [])"#,
        #"_ = try await s.takeLease("l", holder: "h", ttlMillis: 1, replacing: nil)"#,
        #"try await s.releaseLease("l", holder: "h")"#,
    ]

    /// Type-checks `body` against the built modules; returns the compiler's status and output.
    static func typecheck(_ body: [String], spi: Bool) throws -> (status: Int32, output: String) {
        let modules = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("Modules")
        try #require(
            FileManager.default.fileExists(atPath: modules.appendingPathComponent("CairnStore.swiftmodule").path),
            "no built CairnStore module in \(modules.path)"
        )
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("store-writes-probe-\(UUID().uuidString).swift")
        defer { try? FileManager.default.removeItem(at: probe) }
        let source =
            (spi ? "@_spi(StoreWrites) " : "") + "import CairnStore\n"
            + "func probe(_ p: Project, _ r: Repository, _ s: any Storage, _ m: CommitMetadata) async throws {\n"
            + body.map { "    " + $0 + "\n" }.joined() + "}\n"
        try source.write(to: probe, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "swiftc", "-typecheck", "-swift-version", "6", "-I", modules.path,
            "-Xcc", "-fmodule-map-file=" + root.appendingPathComponent("Sources/CPCRE2/module.modulemap").path, probe.path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test("importing CairnStore plainly, every mutator is out of reach; reads are not; with the SPI, the same calls compile")
    func mutatorsNeedTheSPI() throws {
        let reads = try Self.typecheck(
            [#"_ = try await p.read("a.json")"#, #"_ = try await p.log()"#, #"_ = try await r.projects(organization: 1)"#],
            spi: false
        )
        #expect(reads.status == 0, "\(reads.output)")
        let plain = try Self.typecheck(Self.mutators, spi: false)
        #expect(plain.status != 0)
        for (i, call) in Self.mutators.enumerated() {
            // Line 3 is the first call's (after the import and the function's line).
            #expect(
                plain.output.contains(":\(i + 3):") && plain.output.contains("inaccessible due to '@_spi' protection level"),
                "\(call) compiled:\n\(plain.output)"
            )
        }
        let errors = plain.output.components(separatedBy: "error:").count - 1
        #expect(errors >= Self.mutators.count, "\(plain.output)")
        let governed = try Self.typecheck(Self.mutators, spi: true)
        #expect(governed.status == 0, "\(governed.output)")
    }

    @Test("no surface module imports the store's write SPI")
    func surfacesDoNotImportTheSPI() throws {
        var found: [String] = []
        for module in ["CairnHTTP", "CairnMCP", "CairnCLI", "cairn"] {
            let dir = Self.root.appendingPathComponent("Sources/\(module)")
            let files = try #require(FileManager.default.enumerator(atPath: dir.path)).compactMap { $0 as? String }.filter {
                $0.hasSuffix(".swift")
            }
            #expect(!files.isEmpty, "no sources in \(dir.path)")
            for file in files where try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8).contains("@_spi(StoreWrites)")
            {
                found.append("\(module)/\(file)")
            }
        }
        #expect(found.isEmpty, "surfaces that can write around the Gateway: \(found)")
    }
}
