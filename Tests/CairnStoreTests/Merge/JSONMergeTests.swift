import CairnStore
import Foundation
import Testing

@Suite struct JSONMergeTests {
    func json(_ text: String) -> JSONValue { JSONValue.parse(Array(text.utf8))! }

    func merge(_ b: String?, _ o: String?, _ t: String?, _ resolutions: [String: MergeResolution] = [:]) -> JSONMerge.Result {
        JSONMerge.merge(base: b.map(json), ours: o.map(json), theirs: t.map(json), resolutions: resolutions)
    }

    @Test func changesToDifferentMembersMergeCleanly() {
        let r = merge(
            #"{"name":"cab-1","capacity":10,"site":{"floor":1,"room":"a"}}"#,
            #"{"name":"cab-1","capacity":25,"site":{"floor":1,"room":"a"}}"#,
            #"{"name":"cabinet 1","capacity":10,"site":{"floor":2,"room":"a"},"owner":"ops"}"#
        )
        #expect(r.conflicts.isEmpty)
        #expect(r.merged == json(#"{"name":"cabinet 1","capacity":25,"site":{"floor":2,"room":"a"},"owner":"ops"}"#))
    }

    @Test func theSameChangeOnBothSidesIsNoConflict() {
        let r = merge(#"{"a":1,"b":1}"#, #"{"a":2,"b":1}"#, #"{"a":2}"#)
        #expect(r.conflicts.isEmpty)
        #expect(r.merged == json(#"{"a":2}"#))
    }

    @Test func theSameMemberChangedTwoWaysIsAConflictHunk() {
        let r = merge(#"{"a":1,"b":{"c":1}}"#, #"{"a":2,"b":{"c":5}}"#, #"{"a":3,"b":{"c":1}}"#)
        #expect(r.conflicts == [MergeConflict(pointer: "/a", base: .int(1), ours: .int(2), theirs: .int(3))])
        #expect(r.merged == json(#"{"a":2,"b":{"c":5}}"#), "an unresolved hunk holds our side")
    }

    @Test func changedOnOneSideAndDeletedOnTheOtherIsAConflict() {
        let r = merge(#"{"a":{"x":1},"b":1}"#, #"{"b":1}"#, #"{"a":{"x":2},"b":1}"#)
        #expect(r.conflicts == [MergeConflict(pointer: "/a", base: json(#"{"x":1}"#), ours: nil, theirs: json(#"{"x":2}"#))])
        let deletedFile = merge(#"{"a":1}"#, nil, #"{"a":2}"#)
        #expect(deletedFile.conflicts == [MergeConflict(pointer: "", base: json(#"{"a":1}"#), ours: nil, theirs: json(#"{"a":2}"#))])
    }

    @Test func membersAddedOnBothSides() {
        #expect(merge(#"{}"#, #"{"a":1}"#, #"{"b":2}"#).merged == json(#"{"a":1,"b":2}"#))
        let r = merge(#"{}"#, #"{"a":1}"#, #"{"a":2}"#)
        #expect(r.conflicts == [MergeConflict(pointer: "/a", base: nil, ours: .int(1), theirs: .int(2))])
        // A file added on both sides merges like members added on both sides.
        #expect(merge(nil, #"{"a":1,"s":"x"}"#, #"{"b":2,"s":"x"}"#).merged == json(#"{"a":1,"b":2,"s":"x"}"#))
    }

    @Test func aGeometryIsOneMember() {
        let base = #"{"type":"Feature","properties":{"n":1},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}"#
        let ours = #"{"type":"Feature","properties":{"n":1},"geometry":{"type":"LineString","coordinates":[[0,0.5],[1,1]]}}"#
        let theirs = #"{"type":"Feature","properties":{"n":2},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1.5]]}}"#
        let r = merge(base, ours, theirs)
        #expect(r.conflicts.map(\.pointer) == ["/geometry"], "two edits to one shape are not combined point by point")
        #expect(r.merged.flatMap { if case .object(let o) = $0 { o["properties"] } else { nil } } == json(#"{"n":2}"#))
        // One side moving the geometry while the other edits properties is clean.
        let clean = merge(
            base,
            ours,
            #"{"type":"Feature","properties":{"n":2},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}"#
        )
        #expect(clean.conflicts.isEmpty)
        #expect(
            clean.merged == json(#"{"type":"Feature","properties":{"n":2},"geometry":{"type":"LineString","coordinates":[[0,0.5],[1,1]]}}"#)
        )
    }

    @Test func arraysOfObjectsWithIdsMergeById() {
        let base = #"{"pipes":[{"id":"p1","d":100},{"id":"p2","d":100},{"id":"p3","d":100}]}"#
        let ours = #"{"pipes":[{"id":"p1","d":150},{"id":"p2","d":100},{"id":"p4","d":80}]}"#
        let theirs = #"{"pipes":[{"id":"p2","d":200},{"id":"p1","d":100},{"id":"p3","d":100},{"id":"p5","d":60}]}"#
        let r = merge(base, ours, theirs)
        #expect(r.conflicts.isEmpty)
        #expect(r.merged == json(#"{"pipes":[{"id":"p1","d":150},{"id":"p2","d":200},{"id":"p4","d":80},{"id":"p5","d":60}]}"#))

        let both = merge(
            base,
            #"{"pipes":[{"id":"p1","d":150},{"id":"p2","d":100},{"id":"p3","d":100}]}"#,
            #"{"pipes":[{"id":"p1","d":175},{"id":"p2","d":100}]}"#
        )
        #expect(both.conflicts.map(\.pointer) == [#"/pipes/id:"p1"/d"#])
        let gone = merge(
            base,
            #"{"pipes":[{"id":"p1","d":100},{"id":"p2","d":100}]}"#,
            #"{"pipes":[{"id":"p1","d":100},{"id":"p2","d":100},{"id":"p3","d":999}]}"#
        )
        #expect(
            gone.conflicts == [
                MergeConflict(
                    pointer: #"/pipes/id:"p3""#,
                    base: json(#"{"id":"p3","d":100}"#),
                    ours: nil,
                    theirs: json(#"{"id":"p3","d":999}"#)
                )
            ]
        )
        // Integer ids are kept apart from string ids that read the same.
        #expect(
            JSONMerge.merge(base: json(#"[{"id":7,"v":0}]"#), ours: json(#"[{"id":7,"v":1}]"#), theirs: json(#"[{"id":7,"v":2}]"#))
                .conflicts.map(\.pointer) == ["/id:7/v"]
        )
    }

    @Test func otherArraysMergeAsAWhole() {
        let r = merge(#"{"tags":["a","b"]}"#, #"{"tags":["a","b","c"]}"#, #"{"tags":["b"]}"#)
        #expect(r.conflicts.map(\.pointer) == ["/tags"])
        #expect(merge(#"{"tags":["a"]}"#, #"{"tags":["a","b"]}"#, #"{"tags":["a"]}"#).merged == json(#"{"tags":["a","b"]}"#))
        // Duplicate ids are not an id-keyed array.
        #expect(
            merge(#"[{"id":1},{"id":1}]"#, #"[{"id":1,"x":1},{"id":1}]"#, #"[{"id":1},{"id":1,"y":1}]"#).conflicts.map(\.pointer) == [""]
        )
    }

    @Test func everyResolution() {
        let base = #"{"a":1,"b":1,"c":1,"d":1}"#
        let ours = #"{"a":2,"b":2,"c":2,"d":2}"#
        let theirs = #"{"a":3,"b":3,"c":3,"d":3}"#
        #expect(merge(base, ours, theirs).conflicts.count == 4)
        let r = merge(base, ours, theirs, ["/a": .ours, "/b": .theirs, "/c": .value(.string("rewritten"))])
        #expect(r.conflicts.map(\.pointer) == ["/d"], "the merge completes only when every hunk is resolved")
        let done = merge(base, ours, theirs, ["/a": .ours, "/b": .theirs, "/c": .value(.string("rewritten")), "/d": .value(nil)])
        #expect(done.conflicts.isEmpty)
        #expect(done.merged == json(#"{"a":2,"b":3,"c":"rewritten"}"#))
    }

    // MARK: Property: non-overlapping changes merge to both sets applied

    /// A change at one site of a document; sites of the two sides never overlap.
    enum Change {
        case set([String], JSONValue)
        case remove([String])
        case setElement(String, String, String, JSONValue)
        case addElement(String, JSONValue)
        case removeElement(String, String)
    }

    static func apply(_ change: Change, to doc: JSONValue) -> JSONValue {
        guard case .object(var top) = doc else { return doc }
        switch change {
        case .set(let path, let v):
            if path.count == 1 {
                top[path[0]] = v
            } else if case .object(var inner)? = top[path[0]] {
                inner[path[1]] = v
                top[path[0]] = .object(inner)
            }
        case .remove(let path):
            if path.count == 1 {
                top[path[0]] = nil
            } else if case .object(var inner)? = top[path[0]] {
                inner[path[1]] = nil
                top[path[0]] = .object(inner)
            }
        case .setElement(let key, let id, let field, let v):
            if case .array(let a)? = top[key] {
                top[key] = .array(
                    a.map { e in
                        guard case .object(var o) = e, o["id"] == .string(id) else { return e }
                        o[field] = v
                        return .object(o)
                    }
                )
            }
        case .addElement(let key, let e):
            if case .array(let a)? = top[key] { top[key] = .array(a + [e]) }
        case .removeElement(let key, let id):
            if case .array(let a)? = top[key] {
                top[key] = .array(a.filter { if case .object(let o) = $0 { o["id"] != .string(id) } else { true } })
            }
        }
        return .object(top)
    }

    @Test(arguments: 0..<200)
    func nonOverlappingChangesMergeToBothApplied(seed: Int) {
        var rng = SplitMix64(state: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        func scalar() -> JSONValue {
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: .int(Int64.random(in: -50...50, using: &rng))
            case 1: .string(["a", "b", "c", "d"].randomElement(using: &rng)!)
            default: .bool(Bool.random(using: &rng))
            }
        }
        // A base: scalars, small objects, and arrays of objects with ids.
        var top: [String: JSONValue] = [:]
        for k in 0..<6 {
            switch k % 3 {
            case 0: top["s\(k)"] = scalar()
            case 1: top["o\(k)"] = .object(Dictionary(uniqueKeysWithValues: (0..<4).map { ("f\($0)", scalar()) }))
            default: top["a\(k)"] = .array((0..<4).map { .object(["id": .string("e\($0)"), "v": scalar(), "w": scalar()]) })
            }
        }
        let base = JSONValue.object(top)
        // Each side claims sites; a site and anything inside it belong to one side only.
        var claimed: [String] = []
        func claim(_ site: String) -> Bool {
            if claimed.contains(where: { $0 == site || $0.hasPrefix(site + "/") || site.hasPrefix($0 + "/") }) { return false }
            claimed.append(site)
            return true
        }
        func changes(side: String) -> [Change] {
            var out: [Change] = []
            for _ in 0..<Int.random(in: 1...5, using: &rng) {
                let k = Int.random(in: 0..<6, using: &rng)
                switch (k % 3, Int.random(in: 0..<3, using: &rng)) {
                case (0, 0): if claim("/s\(k)") { out.append(.set(["s\(k)"], scalar())) }
                case (0, _): if claim("/s\(k)") { out.append(.remove(["s\(k)"])) }
                case (1, 0):
                    let f = "f\(Int.random(in: 0..<4, using: &rng))"
                    if claim("/o\(k)/\(f)") { out.append(.set(["o\(k)", f], scalar())) }
                case (1, 1):
                    let f = "f\(Int.random(in: 0..<4, using: &rng))"
                    if claim("/o\(k)/\(f)") { out.append(.remove(["o\(k)", f])) }
                case (1, _): if claim("/o\(k)/new-\(side)") { out.append(.set(["o\(k)", "new-\(side)"], scalar())) }
                case (2, 0):
                    let e = "e\(Int.random(in: 0..<4, using: &rng))"
                    let field = Bool.random(using: &rng) ? "v" : "w"
                    if claim("/a\(k)/\(e)/\(field)") { out.append(.setElement("a\(k)", e, field, scalar())) }
                case (2, 1):
                    let e = "e\(Int.random(in: 0..<4, using: &rng))"
                    if claim("/a\(k)/\(e)") { out.append(.removeElement("a\(k)", e)) }
                default:
                    let id = "\(side)-\(out.count)"
                    if claim("/a\(k)/\(id)") { out.append(.addElement("a\(k)", .object(["id": .string(id), "v": scalar()]))) }
                }
            }
            return out
        }
        let oursChanges = changes(side: "ours")
        let theirsChanges = changes(side: "theirs")
        let ours = oursChanges.reduce(base) { Self.apply($1, to: $0) }
        let theirs = theirsChanges.reduce(base) { Self.apply($1, to: $0) }
        let expected = theirsChanges.reduce(ours) { Self.apply($1, to: $0) }
        let r = JSONMerge.merge(base: base, ours: ours, theirs: theirs)
        #expect(r.conflicts.isEmpty, "seed \(seed): \(r.conflicts)")
        #expect(r.merged == expected, "seed \(seed)")
        // And merging is symmetric in content (order of id arrays aside, which follows ours).
        #expect(JSONMerge.merge(base: base, ours: theirs, theirs: ours).conflicts.isEmpty)
    }
}
