import CairnCore
@_spi(StoreWrites) import CairnStore
import Testing

@Suite struct FileOperationTests {
    @Test func writeThenReadLines() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        let out = try await p.write("a/b.txt", "one\ntwo\nthree\n".bytes, metadata: .test("add b"))
        #expect(out.didChange)
        let all = try await p.read("a/b.txt")
        #expect(all.lines == ["one", "two", "three"])
        #expect(all.totalLines == 3)
        #expect(!all.hasMore)
        let page = try await p.read("a/b.txt", offset: 2, limit: 1)
        #expect(page.lines == ["two"])
        #expect(page.startLine == 2)
        #expect(page.hasMore)
        #expect(page.totalLines == 3)
    }

    @Test func writingTheSameBytesMakesNoCommit() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        let first = try await p.write("x.json", "{}".bytes, metadata: .test("x"))
        let again = try await p.write("x.json", "{}".bytes, metadata: .test("x again"))
        #expect(!again.didChange)
        #expect(again.head == first.commit)
    }

    @Test func readMissingFileIsNotFound() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        await expectError(.notFound) { try await p.read("nope.txt") }
    }

    @Test(arguments: [
        "", "/abs", "a//b", "a/./b", "a/../b", "trailing/", "nul\u{0}byte", "back\\slash", String(repeating: "x", count: 1025),
    ])
    func badPathsAreRejected(_ path: String) async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        await expectError(.invalidPath) { try await p.write(path, "x".bytes, metadata: .test("bad")) }
        #expect(try await p.log().commits.count == 1, "a rejected write must not commit")
    }

    @Test func pathsAreNormalizedToNFC() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        try await p.write("caf\u{65}\u{301}.txt", "x".bytes, metadata: .test("nfd"))
        let read = try await p.read("caf\u{e9}.txt")
        #expect(read.lines == ["x"])
        #expect(try await p.glob("*").paths == ["caf\u{e9}.txt"])
    }

    @Test func editReplacesAUniqueString() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        try await p.write("f.txt", "alpha beta gamma".bytes, metadata: .test("f"))
        try await p.edit("f.txt", old: "beta", new: "BETA", metadata: .test("edit"))
        #expect(try await p.read("f.txt").lines == ["alpha BETA gamma"])
    }

    @Test func editErrors() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        try await p.write("f.txt", "aa bb aa".bytes, metadata: .test("f"))
        await expectError(.editNoMatch) { try await p.edit("f.txt", old: "zz", new: "y", metadata: .test("e")) }
        await expectError(.ambiguousEdit) { try await p.edit("f.txt", old: "aa", new: "y", metadata: .test("e")) }
        await expectError(.notFound) { try await p.edit("missing.txt", old: "aa", new: "y", metadata: .test("e")) }
        await expectError(.invalidArgument) { try await p.edit("f.txt", old: "", new: "y", metadata: .test("e")) }
        #expect(try await p.read("f.txt").lines == ["aa bb aa"], "failed edits change nothing")
        try await p.edit("f.txt", old: "aa", new: "c", replaceAll: true, metadata: .test("all"))
        #expect(try await p.read("f.txt").lines == ["c bb c"])
    }

    @Test func deleteByPathAndGlob() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        try await p.commit(
            [
                .write(path: "roads/a.json", content: "{}".bytes), .write(path: "roads/b.json", content: "{}".bytes),
                .write(path: "poles/c.json", content: "{}".bytes),
            ],
            metadata: .test("three")
        )
        try await p.delete("poles/c.json", metadata: .test("rm c"))
        #expect(try await p.glob("**").paths == ["roads/a.json", "roads/b.json"])
        try await p.delete("roads/*.json", metadata: .test("rm roads"))
        #expect(try await p.glob("**").paths == [])
        await expectError(.notFound) { try await p.delete("roads/*.json", metadata: .test("again")) }
        await expectError(.notFound) { try await p.delete("nothing.txt", metadata: .test("again")) }
    }

    @Test func atomicBatchIsAllOrNothing() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        try await p.write("keep.txt", "v1".bytes, metadata: .test("keep"))
        await expectError(.editNoMatch) {
            try await p.commit(
                [.write(path: "new.txt", content: "n".bytes), .edit(path: "keep.txt", old: "zzz", new: "q", replaceAll: false)],
                metadata: .test("bad batch")
            )
        }
        await expectError(.notFound) { try await p.read("new.txt") }
        let ok = try await p.commit(
            [
                .write(path: "new.txt", content: "n".bytes), .edit(path: "new.txt", old: "n", new: "m", replaceAll: false),
                .delete("keep.txt"),
            ],
            metadata: .test("good batch")
        )
        #expect(ok.changed.sorted() == ["keep.txt", "new.txt"])
        #expect(try await p.read("new.txt").lines == ["m"])
        #expect(try await p.log().commits.count == 3)
    }

    @Test func globSyntax() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        let paths = ["a.json", "a.txt", "b.json", "d/x.json", "d/e/y.json", "d/e/f/z.geojson", "c1.json", "c2.json"]
        try await p.commit(paths.map { .write(path: $0, content: "{}".bytes) }, metadata: .test("files"))
        #expect(try await p.glob("*.json").paths == ["a.json", "b.json", "c1.json", "c2.json"])
        #expect(try await p.glob("**/*.json").paths == ["a.json", "b.json", "c1.json", "c2.json", "d/e/y.json", "d/x.json"])
        #expect(try await p.glob("d/**").paths == ["d/e/f/z.geojson", "d/e/y.json", "d/x.json"])
        #expect(try await p.glob("c?.json").paths == ["c1.json", "c2.json"])
        #expect(try await p.glob("[ab].*").paths == ["a.json", "a.txt", "b.json"])
        #expect(try await p.glob("[!a]*.json").paths == ["b.json", "c1.json", "c2.json"])
        #expect(try await p.glob("**/*.{geojson,txt}").paths == ["a.txt", "d/e/f/z.geojson"])
        await expectError(.invalidGlob) { try await p.glob("a[b") }
        await expectError(.invalidGlob) { try await p.glob("{a,b") }
    }

    @Test func globPagesNeverTruncateSilently() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        try await p.commit(
            (0..<25).map { .write(path: "f/\(String(format: "%03d", $0)).txt", content: "\($0)".bytes) },
            metadata: .test("25")
        )
        var seen: [String] = []
        var cursor: String? = nil
        repeat {
            let page = try await p.glob("f/*.txt", limit: 10, after: cursor)
            seen += page.paths
            cursor = page.next
        } while cursor != nil
        #expect(seen.count == 25)
        #expect(Set(seen).count == 25)
    }

    @Test func grepModes() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        try await p.commit(
            [
                .write(path: "a.txt", content: "one\nTwo fiber\nthree\nfiber four\n".bytes),
                .write(path: "b.txt", content: "nothing here\n".bytes),
                .write(path: "c/d.txt", content: "FIBER\n".bytes),
            ],
            metadata: .test("grep data")
        )
        let files = try await p.grep(GrepQuery(pattern: "fiber"))
        #expect(files.files == ["a.txt"])
        let ci = try await p.grep(GrepQuery(pattern: "fiber", mode: .files, caseInsensitive: true))
        #expect(ci.files == ["a.txt", "c/d.txt"])
        let counts = try await p.grep(GrepQuery(pattern: "fib.r", mode: .count, caseInsensitive: true))
        #expect(counts.counts == [GrepCount(path: "a.txt", count: 2), GrepCount(path: "c/d.txt", count: 1)])
        let content = try await p.grep(GrepQuery(pattern: "^fiber", mode: .content, contextLines: 1))
        #expect(content.lines == [GrepLine(path: "a.txt", line: 4, text: "fiber four", before: ["three"], after: [])])
        let limited = try await p.grep(GrepQuery(pattern: "o", mode: .content, headLimit: 2))
        #expect(limited.lines.count == 2)
        #expect(limited.truncated)
        let scoped = try await p.grep(GrepQuery(pattern: "FIBER", glob: "c/**"))
        #expect(scoped.files == ["c/d.txt"])
        let crossLine = try await p.grep(GrepQuery(pattern: "one\\s+Two", mode: .content))
        #expect(crossLine.lines.isEmpty, "matches never span lines")
    }

    @Test func grepRejectsBadAndHostilePatterns() async throws {
        let store = try await TestStore()
        let p = try await store.makeProject()
        try await p.write("evil.txt", (String(repeating: "a", count: 5000) + "!").bytes, metadata: .test("evil"))
        await expectError(.invalidRegex) { try await p.grep(GrepQuery(pattern: "(unclosed")) }
        await expectError(.invalidRegex) { try await p.grep(GrepQuery(pattern: "")) }
        // Catastrophic backtracking: bounded by PCRE2's limits, ends with a clear error quickly.
        await expectError(.limitExceeded) { try await p.grep(GrepQuery(pattern: "^(a+)+$")) }
    }
}
