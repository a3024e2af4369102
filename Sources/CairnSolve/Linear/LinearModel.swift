import Foundation

/// A linear (LP) or mixed-integer (MIP) program in Cairn's JSON form: named variables with
/// bounds and a type, linear constraints over them, and a linear objective. Missing bounds are
/// a variable's usual [0, +∞); `null` is unbounded on that side.
///
/// ```json
/// {"sense": "maximize",
///  "variables": [{"name": "x", "upper": 4}, {"name": "y", "type": "integer"}],
///  "constraints": [{"name": "cap", "terms": {"x": 1, "y": 2}, "op": "<=", "rhs": 10}],
///  "objective": {"x": 3, "y": 2}}
/// ```
public struct LinearModel: Sendable, Codable, Equatable {
    /// Whether the objective is minimized or maximized.
    public enum Sense: String, Sendable, Codable { case minimize, maximize }
    /// Continuous, integer, or binary (integer within 0 and 1).
    public enum VariableType: String, Sendable, Codable { case continuous, integer, binary }

    /// A decision variable with its bounds and type.
    public struct Variable: Sendable, Codable, Equatable {
        public var name: String
        public var lower: Double?
        public var upper: Double?
        public var type: VariableType

        /// Without `upper`, a binary is bounded by 1, as in the JSON form: a binary built in
        /// code once took 2 (a facility opened twice for twice its capacity).
        public init(name: String, lower: Double? = 0, upper: Double? = nil, type: VariableType = .continuous) {
            self.name = name
            self.lower = lower
            self.upper = upper ?? (type == .binary ? 1 : nil)
            self.type = type
        }

        enum CodingKeys: String, CodingKey { case name, lower, upper, type }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            type = try c.decodeIfPresent(VariableType.self, forKey: .type) ?? .continuous
            // Absent: the default (0 below, none above; 0…1 for binaries). Null: no bound.
            lower = c.contains(.lower) ? try c.decodeIfPresent(Double.self, forKey: .lower) : 0
            upper = c.contains(.upper) ? try c.decodeIfPresent(Double.self, forKey: .upper) : (type == .binary ? 1 : nil)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(type, forKey: .type)
            if let lower { try c.encode(lower, forKey: .lower) } else { try c.encodeNil(forKey: .lower) }
            if let upper { try c.encode(upper, forKey: .upper) } else { try c.encodeNil(forKey: .upper) }
        }
    }

    /// A named linear constraint: terms, comparison and right-hand side; the name is what binding
    /// constraints and duals are reported by.
    public struct Constraint: Sendable, Codable, Equatable {
        /// How the terms compare with the right-hand side.
        public enum Op: String, Sendable, Codable {
            case lessOrEqual = "<="
            case greaterOrEqual = ">="
            case equal = "="
        }
        public var name: String
        public var terms: [String: Double]
        public var op: Op
        public var rhs: Double

        public init(name: String, terms: [String: Double], op: Op, rhs: Double) {
            self.name = name
            self.terms = terms
            self.op = op
            self.rhs = rhs
        }
    }

    public var sense: Sense
    public var variables: [Variable]
    public var constraints: [Constraint]
    public var objective: [String: Double]
    public var objectiveConstant: Double?

    public init(
        sense: Sense,
        variables: [Variable],
        constraints: [Constraint],
        objective: [String: Double],
        objectiveConstant: Double? = nil
    ) {
        self.sense = sense
        self.variables = variables
        self.constraints = constraints
        self.objective = objective
        self.objectiveConstant = objectiveConstant
    }

    public var isMixedInteger: Bool { variables.contains { $0.type != .continuous } }

    /// Checks what a solver would otherwise choke on, with a message naming the culprit: unique
    /// names, known variables in every term, finite numbers, lower ≤ upper.
    public func validate() throws(SolveError) {
        guard !variables.isEmpty else { throw SolveError(.invalidModel, "the model has no variables") }
        var names = Set<String>()
        for v in variables {
            guard !v.name.isEmpty else { throw SolveError(.invalidModel, "a variable has an empty name") }
            guard names.insert(v.name).inserted else { throw SolveError(.invalidModel, "the variable name '\(v.name)' is used twice") }
            for b in [v.lower, v.upper] {
                if let b, !b.isFinite {
                    throw SolveError(.invalidModel, "variable '\(v.name)' has a bound that is not a finite number (use null for none)")
                }
            }
            if let l = v.lower, let u = v.upper, l > u {
                throw SolveError(.invalidModel, "variable '\(v.name)' has lower bound \(l) above its upper bound \(u)")
            }
        }
        var rows = Set<String>()
        for c in constraints {
            guard rows.insert(c.name).inserted else { throw SolveError(.invalidModel, "the constraint name '\(c.name)' is used twice") }
            guard c.rhs.isFinite else {
                throw SolveError(.invalidModel, "constraint '\(c.name)' has a right-hand side that is not a finite number")
            }
            for (name, a) in c.terms {
                guard names.contains(name) else {
                    throw SolveError(.invalidModel, "constraint '\(c.name)' uses the unknown variable '\(name)'")
                }
                guard a.isFinite else {
                    throw SolveError(.invalidModel, "constraint '\(c.name)' has a coefficient of '\(name)' that is not a finite number")
                }
            }
        }
        for (name, c) in objective {
            guard names.contains(name) else { throw SolveError(.invalidModel, "the objective uses the unknown variable '\(name)'") }
            guard c.isFinite else { throw SolveError(.invalidModel, "the objective coefficient of '\(name)' is not a finite number") }
        }
        if let k = objectiveConstant, !k.isFinite { throw SolveError(.invalidModel, "the objective constant is not a finite number") }
    }
}
