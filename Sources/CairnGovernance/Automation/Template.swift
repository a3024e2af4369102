import CairnCore
import CairnStore
import Foundation

/// One `{{ … }}` reference of a step's arguments: a root (`inputs`, `steps`, `trigger`, `run`)
/// and a path of member names and array indexes into it.
public struct TemplateReference: Sendable, Equatable {
    public enum Segment: Sendable, Equatable {
        case member(String)
        case index(Int)
    }
    public let segments: [Segment]
    public let text: String
    /// `{{ path | json }}`: the value as JSON text (a string), to write a result into a file.
    public var asJSON = false

    /// The first member name, and the second when it names a step or an input.
    public var root: String? { if case .member(let m)? = segments.first { m } else { nil } }
    public var second: String? { if segments.count > 1, case .member(let m) = segments[1] { m } else { nil } }
}

/// The template language of a step's arguments, deliberately small: `{{ path }}` names a value
/// (an input, an earlier step's value or outcome, the trigger, the run), nothing computes. A
/// string that is exactly one reference becomes that value (an object stays an object); a
/// reference inside a longer string is spliced in as text. No code runs, so a definition cannot
/// loop or reach anything its run could not.
///
/// Written by hand: the Mustache library (swift-mustache) renders text, but a step's arguments
/// are JSON values, where `{{steps.a.value}}` must stay an object; and its sections and lambdas
/// are more language than a definition should hold.
public struct Template: Sendable {
    enum Part: Sendable {
        case text(String)
        case reference(TemplateReference)
    }
    let parts: [Part]

    public var references: [TemplateReference] {
        parts.compactMap { if case .reference(let r) = $0 { r } else { nil } }
    }

    /// The largest value a rendered string may reach (1 MiB): templates cannot blow up memory.
    public static let maxRendered = 1 << 20

    /// Parses a string's references; a malformed `{{` is an error naming it.
    public static func parse(_ s: String) throws(CairnError) -> Template {
        var parts: [Part] = []
        var rest = Substring(s)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw CairnError(.invalidArgument, "'{{' is never closed in \"\(s.prefix(80))\"")
            }
            let body = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            parts.append(.reference(try reference(body)))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        return Template(parts: parts)
    }

    static func reference(_ whole: String) throws(CairnError) -> TemplateReference {
        let piped = whole.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
        let body = piped[0].trimmingCharacters(in: .whitespaces)
        if piped.count == 2 {
            guard piped[1].trimmingCharacters(in: .whitespaces) == "json" else {
                throw CairnError(.invalidArgument, "reference '\(whole)': the only filter is '| json'")
            }
            var r = try reference(body)
            r.asJSON = true
            return r
        }
        var segments: [TemplateReference.Segment] = []
        var name = ""
        var chars = Array(body)
        if chars.isEmpty { throw CairnError(.invalidArgument, "an empty reference '{{}}'") }
        var i = 0
        func flush() throws(CairnError) {
            guard !name.isEmpty else { throw CairnError(.invalidArgument, "reference '\(body)' has an empty name") }
            segments.append(.member(name))
            name = ""
        }
        while i < chars.count {
            let c = chars[i]
            if c == "." {
                try flush()
            } else if c == "[" {
                if !name.isEmpty { try flush() }
                guard let end = chars[i...].firstIndex(of: "]"), let n = Int(String(chars[(i + 1)..<end])), n >= 0 else {
                    throw CairnError(.invalidArgument, "reference '\(body)' has a bad index: write [N] with N ≥ 0")
                }
                segments.append(.index(n))
                i = end
                if i + 1 < chars.count, chars[i + 1] == "." { i += 1 }
            } else if c.isLetter || c.isNumber || c == "_" || c == "-" {
                name.append(c)
            } else {
                throw CairnError(.invalidArgument, "reference '\(body)' holds '\(c)': names are letters, digits, '_' and '-'")
            }
            i += 1
        }
        if !name.isEmpty { try flush() }
        chars.removeAll()
        guard let first = segments.first, case .member(let root) = first, ["inputs", "steps", "trigger", "run"].contains(root) else {
            throw CairnError(.invalidArgument, "reference '\(body)' must start with inputs, steps, trigger or run")
        }
        return TemplateReference(segments: segments, text: body)
    }

    /// Renders arguments against a context; a reference to something absent is an error naming it.
    public static func render(_ value: JSONValue, _ context: JSONValue) throws(CairnError) -> JSONValue {
        switch value {
        case .string(let s):
            guard s.contains("{{") else { return value }
            let template = try parse(s)
            if template.parts.count == 1, case .reference(let r) = template.parts[0] { return try resolve(r, in: context) }
            var out = ""
            for part in template.parts {
                switch part {
                case .text(let t): out += t
                case .reference(let r):
                    let v = try resolve(r, in: context)
                    if case .string(let s) = v { out += s } else { out += v.text }
                }
                if out.utf8.count > maxRendered {
                    throw CairnError(.limitExceeded, "a rendered argument exceeds \(maxRendered) bytes")
                }
            }
            return .string(out)
        case .array(let a):
            var out: [JSONValue] = []
            for v in a { out.append(try render(v, context)) }
            return .array(out)
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, v) in o { out[k] = try render(v, context) }
            return .object(out)
        default:
            return value
        }
    }

    static func resolve(_ r: TemplateReference, in context: JSONValue) throws(CairnError) -> JSONValue {
        var v = context
        for segment in r.segments {
            switch (segment, v) {
            case (.member(let m), .object(let o)) where o[m] != nil: v = o[m]!
            case (.index(let n), .array(let a)) where n < a.count: v = a[n]
            default: throw CairnError(.invalidArgument, "'{{\(r.text)}}' names nothing in this run")
            }
        }
        if r.asJSON {
            let text = v.text
            guard text.utf8.count <= maxRendered else {
                throw CairnError(.limitExceeded, "a rendered argument exceeds \(maxRendered) bytes")
            }
            return .string(text)
        }
        return v
    }
}
