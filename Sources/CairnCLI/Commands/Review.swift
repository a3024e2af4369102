import ArgumentParser
import CairnCore
import CairnEngine
import CairnGovernance
import CairnStore
import Foundation

/// `cairn mr`: merge requests, the reviewed way into a protected branch.
struct MergeRequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mr",
        abstract: "Open, review and merge merge requests.",
        subcommands: [Open.self, List.self, Show.self, Comment.self, Review.self, MergeIt.self, Close.self],
        defaultSubcommand: List.self
    )

    struct Who: ParsableArguments {
        @Option(name: .long, help: ArgumentHelp("Who acts (default: $CAIRN_AUTHOR, else $USER).", valueName: "name")) var author: String?
    }

    static func line(_ v: MergeRequestView) -> String {
        let r = v.request
        return
            "!\(r.number)  \(v.status)  \(r.source) -> \(r.target)  \(r.title)  (by \(r.author); approvals "
            + "\(v.approvals)/\(v.requiredApprovals))"
    }

    static func detail(_ v: MergeRequestView) -> String {
        let r = v.request
        var out = [line(v)]
        if let d = r.description, !d.isEmpty { out.append(d) }
        if let head = v.sourceHead {
            out.append("source head \(head.prefix(12))" + (v.voided > 0 ? "; \(v.voided) approval(s) voided by newer commits" : ""))
        }
        for review in r.reviews {
            out.append("  \(review.verdict.rawValue) by \(review.reviewer) at \(review.commit.prefix(12)): \(review.rationale)")
        }
        for c in r.comments { out.append("  comment by \(c.author)\(c.path.map { " on \($0)" } ?? ""): \(c.body)") }
        if let a = r.attempt {
            for file in a.conflicts {
                for h in file.hunks where r.resolutions[file.path]?[h.pointer] == nil {
                    out.append(
                        "  conflict \(file.path) \(h.pointer.isEmpty ? "(whole file)" : h.pointer): ours \(Merge.show(h.ours)), theirs "
                            + "\(Merge.show(h.theirs))"
                    )
                }
            }
        }
        if let m = r.mergeCommit { out.append("merged as \(m.prefix(12))") }
        return out.joined(separator: "\n")
    }

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Propose merging a branch (into main by default).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @OptionGroup var who: Who
        @Argument(help: "The branch to merge.") var source: String
        @Option(name: .long, help: "The branch to merge into.") var into = "main"
        @Option(name: .long, help: "A one-line title.") var title: String
        @Option(name: .long, help: "What and why, at length.") var description: String?

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: who.author, reason: title)
                let v = try await c.gateway.review.openMergeRequest(
                    c.caller,
                    project: c.project,
                    source: source,
                    target: into,
                    title: title,
                    description: description
                )
                global.console.emit(v) { "opened " + MergeRequestCommand.line(v) }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List merge requests.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Option(name: .long, help: "open, merged or closed.") var state: String?
        @Option(name: .long, help: "At most this many.") var limit = 50
        @Option(name: .long, help: "Continue after this cursor.") var cursor: String?

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: nil, reason: "list merge requests")
                var wanted: MergeRequest.State?
                if let state {
                    guard let s = MergeRequest.State(rawValue: state) else {
                        throw CairnError(.invalidArgument, "--state is open, merged or closed")
                    }
                    wanted = s
                }
                let page = try await c.gateway.review.mergeRequests(
                    c.caller,
                    project: c.project,
                    state: wanted,
                    limit: limit,
                    cursor: cursor
                )
                global.console.emit(page) {
                    (page.mergeRequests.map(MergeRequestCommand.line) + (page.next.map { ["more: --cursor \($0)"] } ?? [])).joined(
                        separator: "\n"
                    )
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a merge request: reviews, comments, conflicts; --diff for what it changes."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @Argument(help: "Its number.") var number: Int
        @Flag(name: .long, help: "Show the entity-level diff instead.") var diff = false

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: nil, reason: "show merge request")
                if diff {
                    let d = try await c.gateway.review.mergeRequestDiff(c.caller, project: c.project, number: number)
                    global.console.emit(d) { d.entities.map { "\($0.change)  \($0.path)" }.joined(separator: "\n") }
                } else {
                    let v = try await c.gateway.review.mergeRequest(c.caller, project: c.project, number: number)
                    global.console.emit(v) { MergeRequestCommand.detail(v) }
                }
            }
        }
    }

    struct Comment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Comment on a merge request.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @OptionGroup var who: Who
        @Argument(help: "Its number.") var number: Int
        @Argument(help: "The comment.") var body: String
        @Option(name: .long, help: "The file it is about.") var path: String?

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: who.author, reason: "comment")
                let v = try await c.gateway.review.comment(c.caller, project: c.project, number: number, body: body, path: path)
                global.console.emit(v) { "commented on " + MergeRequestCommand.line(v) }
            }
        }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve, request changes or reject, with a rationale.",
            discussion: "The review binds to the source's head now: a later commit on the source voids an approval."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @OptionGroup var who: Who
        @Argument(help: "Its number.") var number: Int
        @Argument(help: "approve, request_changes or reject.") var verdict: String
        @Option(name: [.short, .long], help: "Why (required).") var message: String

        func run() async throws {
            try await runReporting(global) {
                guard let v = MergeRequest.Verdict(rawValue: verdict) else {
                    throw CairnError(.invalidArgument, "the verdict is approve, request_changes or reject")
                }
                let c = try await LocalAccess(global, project: project, author: who.author, reason: message)
                let view = try await c.gateway.review.review(c.caller, project: c.project, number: number, verdict: v, rationale: message)
                global.console.emit(view) { "\(v.rawValue): " + MergeRequestCommand.line(view) }
            }
        }
    }

    struct MergeIt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "merge",
            abstract: "Merge an approved request; conflicts are kept with it (exit 1) until --resolve settles them."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @OptionGroup var who: Who
        @Argument(help: "Its number.") var number: Int
        @Option(name: .long, help: "A JSON file of resolutions, or - for standard input.") var resolve: String?
        @Option(name: [.short, .long], help: "The merge commit's message.") var message: String?

        func run() async throws {
            var conflicted = false
            try await runReporting(global) {
                let resolutions = try Merge.resolutions(resolve)
                let c = try await LocalAccess(global, project: project, author: who.author, reason: message ?? "merge request !\(number)")
                switch try await c.gateway.review.mergeMergeRequest(c.caller, project: c.project, number: number, resolutions: resolutions)
                {
                case .merged(let v, let out):
                    global.console.emit(v) { "merged " + MergeRequestCommand.line(v) + "\n" + Format.outcome(out) }
                case .conflicts(let v):
                    conflicted = true
                    global.console.emit(v) {
                        MergeRequestCommand.detail(v) + "\n\(v.unresolved) unresolved conflict(s) kept with !\(number); nothing was written"
                    }
                }
            }
            if conflicted { throw ExitCode.failure }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a merge request without merging.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var project: ProjectOptions
        @OptionGroup var who: Who
        @Argument(help: "Its number.") var number: Int

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: project, author: who.author, reason: "close merge request")
                let v = try await c.gateway.review.closeMergeRequest(c.caller, project: c.project, number: number)
                global.console.emit(v) { "closed " + MergeRequestCommand.line(v) }
            }
        }
    }
}

/// `cairn approval`: the queue of sensitive operations waiting for an approver.
struct ApprovalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approval",
        abstract: "List, approve and reject queued sensitive operations.",
        subcommands: [List.self, Decide.self],
        defaultSubcommand: List.self
    )

    static func line(_ a: PendingApproval) -> String {
        "\(a.id)  \(a.state.rawValue)  \(a.summary)  (asked by \(a.requester); "
            + "\(a.decisions.filter { $0.verdict == "approve" }.count)/\(a.requiredApprovals) approvals)"
            + (a.error.map { "  \($0)" } ?? "")
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List approval requests.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "pending, applied, rejected or failed.") var state: String?

        func run() async throws {
            try await runReporting(global) {
                let c = try await LocalAccess(global, project: nil, author: nil, reason: "list approvals")
                var wanted: PendingApproval.State?
                if let state {
                    guard let s = PendingApproval.State(rawValue: state) else {
                        throw CairnError(.invalidArgument, "--state is pending, applied, rejected or failed")
                    }
                    wanted = s
                }
                let page = try await c.gateway.review.approvals(c.caller, state: wanted, limit: 500)
                global.console.emit(page) { page.approvals.map(ApprovalCommand.line).joined(separator: "\n") }
            }
        }
    }

    struct Decide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decide",
            abstract: "Approve or reject a request, with a rationale; approved, it applies at the state it was asked against."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The request's id.") var id: String
        @Argument(help: "approve or reject.") var verdict: String
        @Option(name: [.short, .long], help: "Why (required).") var message: String
        @Option(name: .long, help: ArgumentHelp("Who decides (default: $CAIRN_AUTHOR, else $USER).", valueName: "name")) var author: String?

        func run() async throws {
            try await runReporting(global) {
                guard verdict == "approve" || verdict == "reject" else {
                    throw CairnError(.invalidArgument, "the verdict is approve or reject")
                }
                let c = try await LocalAccess(global, project: nil, author: author, reason: message)
                let a = try await c.gateway.review.decideApproval(c.caller, id: id, approve: verdict == "approve", rationale: message)
                // A workflow run waiting on this request goes on (or ends) here and now.
                if a.operation == .workflowStep,
                    let run = await WorkflowScheduler(workflows: Workflows(engine: Engine(gateway: c.gateway))).settle(
                        c.caller.organization,
                        approval: a
                    )
                {
                    global.console.emit(run) { ApprovalCommand.line(a) + "\n" + WorkflowCommand.describe(run) }
                    return
                }
                global.console.emit(a) { ApprovalCommand.line(a) }
            }
        }
    }
}
