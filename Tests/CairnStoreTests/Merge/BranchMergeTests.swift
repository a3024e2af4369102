import CairnCore
@_spi(StoreWrites) import CairnStore
import Foundation
import Testing

@Suite struct BranchMergeTests {
    func text(_ p: Project, _ path: String, at ref: String = "main") async throws -> String {
        String(decoding: try await p.readBytes(path, at: ref).2, as: UTF8.self)
    }

    func json(_ p: Project, _ path: String, at ref: String = "main") async throws -> JSONValue? {
        JSONValue.parse(try await p.readBytes(path, at: ref).2)
    }

    /// main and `plan` diverge from one commit.
    func diverged() async throws -> (TestStore, Project, base: ObjectID) {
        let store = try await TestStore()
        let p = try await store.makeProject()
        let base = try await p.commit(
            [
                .write(path: "cab/1.json", content: #"{"name":"c1","capacity":10,"site":{"floor":1}}"#.bytes),
                .write(path: "notes.txt", content: "v1\n".bytes), .write(path: "old.json", content: "{}".bytes),
            ],
            metadata: .test("base")
        ).head
        try await p.createBranch("plan", from: "main", principal: "tester")
        return (store, p, base)
    }

    @Test func aCleanMergeTakesBothSidesAndHasTwoParents() async throws {
        let (store, p, base) = try await diverged()
        _ = store
        let mainHead = try await p.commit(
            [.write(path: "cab/1.json", content: #"{"name":"c1","capacity":25,"site":{"floor":1}}"#.bytes)],
            metadata: .test("capacity")
        ).head
        let planHead = try await p.commit(
            [
                .write(path: "cab/1.json", content: #"{"name":"c1","capacity":10,"site":{"floor":2}}"#.bytes),
                .write(path: "cab/2.json", content: #"{"name":"c2"}"#.bytes), .delete("old.json"),
            ],
            branch: "plan",
            metadata: .test("plan work")
        ).head
        #expect(try await p.mergeBase(mainHead, planHead) == base)

        guard case .merged(let out, let mergeBase) = try await p.merge(source: "plan", into: "main", metadata: .test("merge plan")) else {
            Issue.record("expected a clean merge")
            return
        }
        #expect(mergeBase == base)
        #expect(Set(out.changed) == ["cab/1.json", "cab/2.json", "old.json"])
        #expect(try await json(p, "cab/1.json") == JSONValue.parse(#"{"name":"c1","capacity":25,"site":{"floor":2}}"#.bytes))
        #expect(try await text(p, "cab/2.json") == #"{"name":"c2"}"#)
        await #expect(throws: CairnError.self) { _ = try await p.readBytes("old.json") }
        let merge = try await p.show("main")
        #expect(merge.commit.parents == [mainHead, planHead])
        // Blame follows through the merge: each value keeps the commit that set it on its branch.
        let blame = Dictionary(uniqueKeysWithValues: try await p.blame("cab/1.json").map { ($0.pointer, $0.commit) })
        #expect(blame["/capacity"] == mainHead)
        #expect(blame["/site/floor"] == planHead)
        #expect(blame["/name"] == base)
        // Merging again changes nothing: the source has nothing new.
        guard case .merged(let again, _) = try await p.merge(source: "plan", into: "main", metadata: .test("again")) else {
            Issue.record("expected nothing to merge")
            return
        }
        #expect(again.commit == nil)
    }

    @Test func conflictsAreReportedWithNothingWrittenThenResolved() async throws {
        let (store, p, base) = try await diverged()
        _ = store
        let mainHead = try await p.commit(
            [
                .write(path: "cab/1.json", content: #"{"name":"c1","capacity":25,"site":{"floor":1}}"#.bytes),
                .write(path: "notes.txt", content: "main\n".bytes),
            ],
            metadata: .test("main side")
        ).head
        let planHead = try await p.commit(
            [
                .write(path: "cab/1.json", content: #"{"name":"c1","capacity":40,"site":{"floor":3}}"#.bytes),
                .write(path: "notes.txt", content: "plan\n".bytes),
            ],
            branch: "plan",
            metadata: .test("plan side")
        ).head
        guard case .conflicts(let files, let b, let o, let t) = try await p.merge(source: "plan", into: "main", metadata: .test("merge"))
        else {
            Issue.record("expected conflicts")
            return
        }
        #expect(b == base && o == mainHead && t == planHead)
        #expect(files.map(\.path) == ["cab/1.json", "notes.txt"])
        #expect(files[0].kind == "json")
        #expect(files[0].hunks == [MergeConflict(pointer: "/capacity", base: .int(10), ours: .int(25), theirs: .int(40))])
        #expect(files[1].kind == "whole")
        #expect(files[1].hunks == [MergeConflict(pointer: "", base: .string("v1\n"), ours: .string("main\n"), theirs: .string("plan\n"))])
        #expect(try await p.resolve("main").commit == mainHead, "a merge with conflicts writes nothing")

        // One hunk settled is not enough.
        guard
            case .conflicts(let left, _, _, _) = try await p.merge(
                source: "plan",
                into: "main",
                resolutions: ["cab/1.json": ["/capacity": .theirs]],
                metadata: .test("merge")
            )
        else {
            Issue.record("expected the notes conflict to remain")
            return
        }
        #expect(left.map(\.path) == ["notes.txt"])
        guard
            case .merged = try await p.merge(
                source: "plan",
                into: "main",
                resolutions: ["cab/1.json": ["/capacity": .theirs], "notes.txt": ["": .value(.string("both\n"))]],
                metadata: .test("merge, resolved")
            )
        else {
            Issue.record("expected the merge to complete")
            return
        }
        #expect(try await json(p, "cab/1.json") == JSONValue.parse(#"{"name":"c1","capacity":40,"site":{"floor":3}}"#.bytes))
        #expect(try await text(p, "notes.txt") == "both\n")

        // Later work on the branch merges from the last merge, not the old base: no old conflict again.
        let planAgain = try await p.commit(
            [.write(path: "cab/1.json", content: #"{"name":"cab one","capacity":40,"site":{"floor":3}}"#.bytes)],
            branch: "plan",
            metadata: .test("rename")
        ).head
        #expect(try await p.mergeBase(try await p.resolve("main").commit, planAgain) == planHead)
        guard case .merged = try await p.merge(source: "plan", into: "main", metadata: .test("merge rename")) else {
            Issue.record("expected a clean second merge")
            return
        }
        #expect(try await json(p, "cab/1.json") == JSONValue.parse(#"{"name":"cab one","capacity":40,"site":{"floor":3}}"#.bytes))
    }
}
