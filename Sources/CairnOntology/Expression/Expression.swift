import CairnCore
import CairnStore

/// The constraint expression language: small, safe and bounded by construction. There are no
/// loops, no assignment and no calls but four fixed functions, and an expression is at most 256
/// nodes, so evaluating one costs at most a few hundred steps. Written by hand because it must
/// be exactly this small; a general-purpose evaluator would have to be cut down to it.
///
/// ```
/// expr    := or
/// or      := and ("||" and)*
/// and     := not ("&&" not)*
/// not     := "!" not | compare
/// compare := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)?
/// sum     := product (("+" | "-") product)*
/// product := unary (("*" | "/" | "%") unary)*
/// unary   := "-" unary | atom
/// atom    := number | 'string' | "string" | true | false | null | "(" expr ")"
///          | name ("." name)*                 a property of the entity (nested with dots)
///          | count(name)                      the number of targets of link `name`
///          | len(expr)                        the length of a string or list
///          | has(name)                        whether the property is present
///          | abs(expr)
/// ```
/// Arithmetic is on numbers; comparing a missing property yields false, so `pressure >= 40`
/// fails when `pressure` is absent. In logic only `true` is true: a missing property is false,
/// so `!active || has(installed)` holds for an entity with no `active`.
public struct Expression: Sendable, Equatable {
    indirect enum Node: Sendable, Equatable {
        case literal(JSONValue)
        case property([String])
        case count(String)
        case has([String])
        case call(String, Node)
        case not(Node)
        case negate(Node)
        case binary(String, Node, Node)
    }

    let root: Node
    public let source: String
    static let maxNodes = 256

    public init(_ source: String) throws(CairnError) {
        var parser = Parser(tokens: try Self.tokenize(source), source: source)
        let root = try parser.expression()
        guard parser.index == parser.tokens.count else {
            throw CairnError(.invalidOntology, "unexpected '\(parser.tokens[parser.index].text)' in expression '\(source)'")
        }
        guard parser.nodes <= Self.maxNodes else {
            throw CairnError(
                .invalidOntology,
                "expression '\(source)' has more than \(Self.maxNodes) parts; split it into several constraints"
            )
        }
        self.root = root
        self.source = source
    }

    /// What an expression can see of one entity.
    public struct Scope: Sendable {
        public let properties: [String: JSONValue]
        public let linkCounts: [String: Int]

        public init(properties: [String: JSONValue], linkCounts: [String: Int]) {
            self.properties = properties
            self.linkCounts = linkCounts
        }
    }

    /// True when the rule holds; a type error (adding a string to a number) is false, not a crash.
    public func holds(in scope: Scope) -> Bool {
        if case .bool(true) = Self.eval(root, scope) { return true }
        return false
    }

    static func eval(_ node: Node, _ scope: Scope) -> JSONValue {
        switch node {
        case .literal(let v): return v
        case .property(let path): return lookup(path, scope.properties) ?? .null
        case .has(let path): return .bool(lookup(path, scope.properties) != nil)
        case .count(let link): return .int(Int64(scope.linkCounts[link] ?? 0))
        case .call(let name, let arg):
            let v = eval(arg, scope)
            switch (name, v) {
            case ("len", .string(let s)): return .int(Int64(s.count))
            case ("len", .array(let a)): return .int(Int64(a.count))
            case ("abs", _): return number(v).map { .double(Swift.abs($0)) } ?? .null
            default: return .null
            }
        case .not(let n):
            return .bool(!truthy(eval(n, scope)))
        case .negate(let n): return number(eval(n, scope)).map { .double(-$0) } ?? .null
        case .binary(let op, let l, let r):
            switch op {
            case "&&": return .bool(truthy(eval(l, scope)) && truthy(eval(r, scope)))
            case "||": return .bool(truthy(eval(l, scope)) || truthy(eval(r, scope)))
            default: break
            }
            let a = eval(l, scope)
            let b = eval(r, scope)
            if op == "==" { return .bool(equal(a, b)) }
            if op == "!=" { return .bool(!equal(a, b)) }
            if ["<", "<=", ">", ">="].contains(op) {
                if let x = number(a), let y = number(b) { return .bool(compare(op, x, y)) }
                if case .string(let x) = a, case .string(let y) = b { return .bool(compare(op, x, y)) }
                return .bool(false)
            }
            if op == "+", case .string(let x) = a, case .string(let y) = b { return .string(x + y) }
            guard let x = number(a), let y = number(b) else { return .null }
            switch op {
            case "+": return .double(x + y)
            case "-": return .double(x - y)
            case "*": return .double(x * y)
            case "/": return y == 0 ? .null : .double(x / y)
            case "%": return y == 0 ? .null : .double(x.truncatingRemainder(dividingBy: y))
            default: return .null
            }
        }
    }

    /// Logic sees only `true` as true: false, a missing property and any other value are false.
    static func truthy(_ v: JSONValue) -> Bool { v == .bool(true) }

    static func lookup(_ path: [String], _ properties: [String: JSONValue]) -> JSONValue? {
        var value: JSONValue? = properties[path[0]]
        for key in path.dropFirst() {
            guard case .object(let o)? = value else { return nil }
            value = o[key]
        }
        if case .null? = value { return nil }
        return value
    }

    static func number(_ v: JSONValue) -> Double? {
        switch v {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = number(a), let y = number(b) { return x == y }
        return a == b
    }

    static func compare<T: Comparable>(_ op: String, _ x: T, _ y: T) -> Bool {
        switch op {
        case "<": x < y
        case "<=": x <= y
        case ">": x > y
        default: x >= y
        }
    }

    // MARK: Tokens and parsing

    struct Token: Equatable {
        enum Kind { case number, string, name, op }
        let kind: Kind
        let text: String
    }

    static func tokenize(_ s: String) throws(CairnError) -> [Token] {
        guard s.utf8.count <= 4096 else { throw CairnError(.invalidOntology, "an expression may be at most 4096 bytes") }
        let chars = Array(s.unicodeScalars)
        var out: [Token] = []
        var i = 0
        func isNameStart(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic || c == "_" }
        while i < chars.count {
            let c = chars[i]
            if c.properties.isWhitespace {
                i += 1
                continue
            }
            if c.properties.numericType != nil && ("0"..."9").contains(c) {
                var j = i
                while j < chars.count && (("0"..."9").contains(chars[j]) || chars[j] == ".") { j += 1 }
                out.append(Token(kind: .number, text: String(String.UnicodeScalarView(chars[i..<j]))))
                i = j
            } else if isNameStart(c) {
                var j = i
                while j < chars.count && (isNameStart(chars[j]) || ("0"..."9").contains(chars[j])) { j += 1 }
                out.append(Token(kind: .name, text: String(String.UnicodeScalarView(chars[i..<j]))))
                i = j
            } else if c == "'" || c == "\"" {
                var j = i + 1
                var text = String.UnicodeScalarView()
                while j < chars.count && chars[j] != c {
                    if chars[j] == "\\" && j + 1 < chars.count { j += 1 }
                    text.append(chars[j])
                    j += 1
                }
                guard j < chars.count else { throw CairnError(.invalidOntology, "an unterminated string in expression '\(s)'") }
                out.append(Token(kind: .string, text: String(text)))
                i = j + 1
            } else {
                let two = i + 1 < chars.count ? String(String.UnicodeScalarView([c, chars[i + 1]])) : ""
                if ["==", "!=", "<=", ">=", "&&", "||"].contains(two) {
                    out.append(Token(kind: .op, text: two))
                    i += 2
                } else if "+-*/%<>!().,".unicodeScalars.contains(c) {
                    out.append(Token(kind: .op, text: String(c)))
                    i += 1
                } else {
                    throw CairnError(.invalidOntology, "unexpected character '\(c)' in expression '\(s)'")
                }
            }
        }
        return out
    }

    struct Parser {
        let tokens: [Token]
        let source: String
        var index = 0
        var nodes = 0
        var depth = 0

        mutating func peek(_ text: String) -> Bool { index < tokens.count && tokens[index].kind == .op && tokens[index].text == text }

        mutating func take(_ text: String) -> Bool {
            if peek(text) {
                index += 1
                return true
            }
            return false
        }

        mutating func node(_ n: Node) throws(CairnError) -> Node {
            nodes += 1
            if nodes > Expression.maxNodes {
                throw CairnError(
                    .invalidOntology,
                    "expression '\(source)' has more than \(Expression.maxNodes) parts; split it into several constraints"
                )
            }
            return n
        }

        mutating func expression() throws(CairnError) -> Node {
            depth += 1
            defer { depth -= 1 }
            guard depth < 64 else { throw CairnError(.invalidOntology, "expression '\(source)' nests too deeply") }
            return try or()
        }

        mutating func or() throws(CairnError) -> Node {
            var l = try and()
            while take("||") { l = try node(.binary("||", l, try and())) }
            return l
        }

        mutating func and() throws(CairnError) -> Node {
            var l = try not()
            while take("&&") { l = try node(.binary("&&", l, try not())) }
            return l
        }

        mutating func not() throws(CairnError) -> Node {
            if take("!") { return try node(.not(try not())) }
            return try compare()
        }

        mutating func compare() throws(CairnError) -> Node {
            let l = try sum()
            for op in ["==", "!=", "<=", ">=", "<", ">"] where take(op) { return try node(.binary(op, l, try sum())) }
            return l
        }

        mutating func sum() throws(CairnError) -> Node {
            var l = try product()
            while true {
                if take("+") {
                    l = try node(.binary("+", l, try product()))
                } else if take("-") {
                    l = try node(.binary("-", l, try product()))
                } else {
                    return l
                }
            }
        }

        mutating func product() throws(CairnError) -> Node {
            var l = try unary()
            while true {
                if take("*") {
                    l = try node(.binary("*", l, try unary()))
                } else if take("/") {
                    l = try node(.binary("/", l, try unary()))
                } else if take("%") {
                    l = try node(.binary("%", l, try unary()))
                } else {
                    return l
                }
            }
        }

        mutating func unary() throws(CairnError) -> Node {
            if take("-") { return try node(.negate(try unary())) }
            return try atom()
        }

        mutating func name() throws(CairnError) -> [String] {
            guard index < tokens.count, tokens[index].kind == .name else {
                throw CairnError(.invalidOntology, "a name is missing in expression '\(source)'")
            }
            var path = [tokens[index].text]
            index += 1
            while take(".") {
                guard index < tokens.count, tokens[index].kind == .name else {
                    throw CairnError(.invalidOntology, "a name must follow '.' in expression '\(source)'")
                }
                path.append(tokens[index].text)
                index += 1
            }
            return path
        }

        mutating func atom() throws(CairnError) -> Node {
            guard index < tokens.count else { throw CairnError(.invalidOntology, "expression '\(source)' ends too early") }
            let t = tokens[index]
            switch t.kind {
            case .number:
                index += 1
                guard let d = Double(t.text) else {
                    throw CairnError(.invalidOntology, "'\(t.text)' is not a number in expression '\(source)'")
                }
                return try node(.literal(.double(d)))
            case .string:
                index += 1
                return try node(.literal(.string(t.text)))
            case .op:
                guard take("(") else { throw CairnError(.invalidOntology, "unexpected '\(t.text)' in expression '\(source)'") }
                let inner = try expression()
                guard take(")") else { throw CairnError(.invalidOntology, "a ')' is missing in expression '\(source)'") }
                return inner
            case .name:
                switch t.text {
                case "true":
                    index += 1
                    return try node(.literal(.bool(true)))
                case "false":
                    index += 1
                    return try node(.literal(.bool(false)))
                case "null":
                    index += 1
                    return try node(.literal(.null))
                case "count", "has", "len", "abs":
                    guard index + 1 < tokens.count, tokens[index + 1] == Token(kind: .op, text: "(") else {
                        return try node(.property(try name()))
                    }
                    index += 2
                    let result: Node
                    switch t.text {
                    case "count": result = .count(try name().joined(separator: "."))
                    case "has": result = .has(try name())
                    default: result = .call(t.text, try expression())
                    }
                    guard take(")") else {
                        throw CairnError(.invalidOntology, "a ')' is missing after \(t.text)( in expression '\(source)'")
                    }
                    return try node(result)
                default:
                    return try node(.property(try name()))
                }
            }
        }
    }
}
