import CairnCore
@_spi(StoreWrites) import CairnStore
import Foundation
import Testing

@Suite struct HistoryTests {
    @Test func logPagesThroughFirstParentHistory() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        for i in 0..<7 { try await p.write("f\(i).txt", "\(i)".bytes, metadata: .test("commit \(i)")) }
        var messages: [String] = []
        var cursor: String? = nil
        repeat {
            let page = try await p.log(limit: 3, cursor: cursor)
            #expect(page.commits.count <= 3)
            messages += page.commits.map(\.commit.message)
            cursor = page.next
        } while cursor != nil
        #expect(messages == (0..<7).reversed().map { "commit \($0)" } + ["create project"])
    }

    @Test func pathLogListsOnlyCommitsOfThatPathOnThatBranch() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        try await p.write("x.json", "{\"v\":1}".bytes, metadata: .test("x1"))
        try await p.write("y.json", "{}".bytes, metadata: .test("y"))
        try await p.createBranch("side", from: "main", principal: "tester")
        try await p.write("x.json", "{\"v\":2}".bytes, metadata: .test("x2"))
        try await p.write("x.json", "{\"v\":99}".bytes, branch: "side", metadata: .test("x on side"))
        try await p.delete("x.json", metadata: .test("x gone"))
        let log = try await p.log(path: "x.json")
        #expect(log.commits.map(\.commit.message) == ["x gone", "x2", "x1"])
        #expect(log.commits.map(\.change) == [.deleted, .modified, .added])
        let side = try await p.log(at: "side", path: "x.json")
        #expect(side.commits.map(\.commit.message) == ["x on side", "x1"])
        let first = try await p.log(path: "x.json", limit: 2)
        #expect(first.commits.count == 2)
        let rest = try await p.log(path: "x.json", limit: 2, cursor: first.next)
        #expect(rest.commits.map(\.commit.message) == ["x1"])
        #expect(rest.next == nil)
    }

    @Test func showAndDiffReportFilesAndJSONPointers() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        let a = try await p.commit(
            [
                .write(
                    path: "pole.json",
                    content:
                        #"{"type":"Feature","properties":{"height":9,"owner":"city"},"geometry":{"type":"Point","coordinates":[24.9,60.1]}}"#
                        .bytes
                ),
                .write(path: "gone.json", content: "{}".bytes),
            ],
            metadata: .test("a")
        ).head
        let b = try await p.commit(
            [
                .write(
                    path: "pole.json",
                    content:
                        #"{"type":"Feature","properties":{"height":12,"owner":"city","new":true},"geometry":{"type":"Point","coordinates":[24.9,60.2]}}"#
                        .bytes
                ),
                .delete("gone.json"), .write(path: "added.txt", content: "hi".bytes),
            ],
            metadata: .test("b")
        ).head
        let diff = try await p.diff(from: a.hex, to: b.hex)
        #expect(diff.files.map(\.path) == ["added.txt", "gone.json", "pole.json"])
        #expect(diff.files.map(\.change) == [.added, .deleted, .modified])
        let pointers = try #require(diff.files[2].json)
        #expect(pointers.map(\.pointer) == ["/geometry/coordinates/1", "/properties/height", "/properties/new"])
        #expect(pointers[1].before == .int(9))
        #expect(pointers[1].after == .int(12))
        #expect(pointers[2].before == nil)
        let shown = try await p.show(String(b.hex.prefix(10)))
        #expect(shown.commit.message == "b")
        #expect(shown.files.count == 3)
        let paged = try await p.diff(from: a.hex, to: b.hex, limit: 2)
        #expect(paged.files.count == 2)
        #expect(paged.next == "gone.json")
        let rest = try await p.diff(from: a.hex, to: b.hex, limit: 2, after: paged.next)
        #expect(rest.files.map(\.path) == ["pole.json"])
    }

    @Test func timeTravelThroughTheRefLog() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        try await p.write("f.txt", "v1".bytes, metadata: .test("v1"))
        try await Task.sleep(for: .milliseconds(20))
        let between = Clock.nowMillis()
        try await Task.sleep(for: .milliseconds(20))
        try await p.write("f.txt", "v2".bytes, metadata: .test("v2"))
        #expect(try await p.read("f.txt", at: "main@\(Clock.rfc3339(between))").lines == ["v1"])
        #expect(try await p.read("f.txt").lines == ["v2"])
        await expectError(.beforeFirstCommit) { try await p.read("f.txt", at: "main@2001-01-01T00:00:00Z") }
        await expectError(.invalidRef) { try await p.read("f.txt", at: "main@yesterday") }
        await expectError(.unknownRef) { try await p.read("f.txt", at: "nosuchbranch") }
        await expectError(.unknownRef) { try await p.read("f.txt", at: "nosuch@2030-01-01T00:00:00Z") }
        await expectError(.unknownRef) { try await p.read("f.txt", at: "abcdef0123") }
    }

    @Test func blameNamesTheCommitThatSetEachValue() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        let c1 = try await p.write("p.json", #"{"a":1,"b":{"c":2},"d":[1,2]}"#.bytes, metadata: .test("one", author: "ann")).head
        let c2 = try await p.write("p.json", #"{"a":1,"b":{"c":3},"d":[1,2]}"#.bytes, metadata: .test("two", author: "bob")).head
        try await p.write("other.json", "{}".bytes, metadata: .test("unrelated"))
        let c4 = try await p.write("p.json", #"{"a":1,"b":{"c":3},"d":[1,5],"e":null}"#.bytes, metadata: .test("four", author: "cy")).head
        let blame = try await p.blame("p.json")
        let by = Dictionary(uniqueKeysWithValues: blame.map { ($0.pointer, $0.commit) })
        #expect(by == ["/a": c1, "/b/c": c2, "/d/0": c1, "/d/1": c4, "/e": c4])
        #expect(blame.first { $0.pointer == "/b/c" }?.author == "bob")
        try await p.write("t.txt", "not json".bytes, metadata: .test("t"))
        await expectError(.notJSON) { try await p.blame("t.txt") }
        await expectError(.notFound) { try await p.blame("none.json") }
    }

    @Test func revertUndoesACommitAndRefusesOverlaps() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        try await p.write("a.txt", "a1".bytes, metadata: .test("a1"))
        let bad = try await p.commit(
            [.write(path: "a.txt", content: "a2".bytes), .write(path: "b.txt", content: "b".bytes)],
            metadata: .test("bad")
        ).head
        let reverted = try await p.revert(bad.hex, metadata: .test("revert bad"))
        #expect(reverted.didChange)
        #expect(try await p.read("a.txt").lines == ["a1"])
        await expectError(.notFound) { try await p.read("b.txt") }
        #expect(try await p.log(limit: 1).commits[0].commit.message == "revert bad")
        let c = try await p.write("a.txt", "a3".bytes, metadata: .test("a3")).head
        try await p.write("a.txt", "a4".bytes, metadata: .test("a4"))
        await expectError(.conflict) { try await p.revert(c.hex, metadata: .test("revert a3")) }
        #expect(try await p.read("a.txt").lines == ["a4"])
    }

    @Test func branchesAreIndependentAndValidated() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        let first = try await p.write("f.txt", "main".bytes, metadata: .test("m")).head
        try await p.write("f.txt", "main2".bytes, metadata: .test("m2"))
        try await p.createBranch("work/one", from: first.hex, principal: "tester")
        #expect(try await p.read("f.txt", at: "work/one").lines == ["main"])
        try await p.write("g.txt", "side".bytes, branch: "work/one", metadata: .test("side"))
        await expectError(.notFound) { try await p.read("g.txt") }
        #expect(try await p.branches().map(\.name) == ["main", "work/one"])
        await expectError(.branchExists) { try await p.createBranch("work/one", from: "main", principal: "t") }
        for bad in ["", "a..b", "-x", "x@y", "a//b", "deadbeef", "sp ace"] {
            await expectError(.invalidArgument) { try await p.createBranch(bad, from: "main", principal: "t") }
        }
        await expectError(.unknownRef) { try await p.createBranch("ok", from: "nope", principal: "t") }
        await expectError(.conflict) { try await p.deleteBranch("main", principal: "t") }
        try await p.deleteBranch("work/one", principal: "t")
        #expect(try await p.branches().map(\.name) == ["main"])
        await expectError(.unknownRef) { try await p.write("x", "y".bytes, branch: "work/one", metadata: .test("x")) }
    }

    @Test func projectsAreIsolated() async throws {
        let store = try await TestStore()
        let a = try await store.makeProject("alpha")
        let b = try await store.makeProject("beta")
        let commit = try await a.write("secret.txt", "s".bytes, metadata: .test("s")).head
        await expectError(.unknownRef) { try await b.show(commit.hex) }
        await expectError(.notFound) { try await b.read("secret.txt") }
        await expectError(.projectExists) { try await store.makeProject("alpha") }
        await expectError(.invalidArgument) { try await store.makeProject("Bad Name") }
        await expectError(.projectNotFound) { try await store.repository.project("gamma", organization: store.organization().id) }
    }
}
