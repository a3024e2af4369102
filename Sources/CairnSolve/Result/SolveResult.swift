import Foundation

/// One answer shape for every problem kind, whatever solved it: enough to act on (the values),
/// to trust (status, bound, gap) and to explain (binding constraints, duals, drivers).
public struct SolveResult: Sendable, Codable, Equatable {
    /// Only `optimal` is a proof; `feasible` is the best found when a limit or a cancel stopped the
    /// search.
    public enum Status: String, Sendable, Codable {
        case optimal, feasible, infeasible, unbounded
        case timeLimit = "time_limit"
        case cancelled, error
    }

    /// A constraint that holds with equality at the answer: what limits the plan.
    public struct Binding: Sendable, Codable, Equatable {
        public let name: String
        /// The constraint's value at the solution, and the bound it sits on.
        public let activity: Double
        public let bound: Double
        /// The shadow price (LP only): how much the objective moves per unit of the bound.
        public let dual: Double?
    }

    /// A term's share of the objective: what the cost is made of.
    public struct Driver: Sendable, Codable, Equatable {
        public let name: String
        public let value: Double
        public let coefficient: Double
        /// coefficient × value: this variable's share of the objective.
        public let contribution: Double
    }

    public var status: Status
    public var objective: Double?
    /// The best proven bound on the objective, and the relative gap |objective − bound| / |objective|.
    public var bestBound: Double?
    public var gap: Double?
    public var values: [String: Double]
    public var binding: [Binding]
    /// Row duals and column reduced costs, for a linear program solved to optimality.
    public var duals: [String: Double]?
    public var reducedCosts: [String: Double]?
    /// The largest contributions to the objective, largest first (at most ten).
    public var drivers: [Driver]
    /// Seconds spent solving (model building excluded).
    public var solveTime: Double
    public var solver: String
    /// What went wrong, when the status is `error`.
    public var message: String?
    /// Problem-specific detail (a vehicle-routing result's routes).
    public var detail: [String: SolveDetail]?
    /// How a MIP search went, as the solver reported it: each new incumbent and bound with the
    /// seconds since the solve began, in order (CBC; absent where the solver reports none).
    public var progress: [Progress]?

    /// One step of a MIP search: the incumbent and bound at a time, and the gap between them.
    public struct Progress: Sendable, Codable, Equatable {
        public let seconds: Double
        public let incumbent: Double?
        public let bound: Double?
        /// |incumbent − bound| / |incumbent|, when both are known.
        public let gap: Double?

        /// Values that are not finite (a solver's `-inf` before it has a bound) are left out.
        public init(seconds: Double, incumbent: Double?, bound: Double?) {
            self.seconds = seconds
            self.incumbent = incumbent.flatMap { $0.isFinite ? $0 : nil }
            self.bound = bound.flatMap { $0.isFinite ? $0 : nil }
            let (incumbent, bound) = (self.incumbent, self.bound)
            if let incumbent, let bound { gap = abs(incumbent - bound) / (abs(incumbent) + Double.ulpOfOne) } else { gap = nil }
        }
    }

    public init(status: Status, solver: String) {
        self.status = status
        self.solver = solver
        values = [:]
        binding = []
        drivers = []
        solveTime = 0
    }

    /// The objective's largest contributions: |coefficient × value|, largest first, ties by name.
    static func drivers(coefficients: [String: Double], values: [String: Double], limit: Int = 10) -> [Driver] {
        coefficients.compactMap { name, c -> Driver? in
            guard let v = values[name], c * v != 0 else { return nil }
            return Driver(name: name, value: v, coefficient: c, contribution: c * v)
        }
        .sorted { abs($0.contribution) != abs($1.contribution) ? abs($0.contribution) > abs($1.contribution) : $0.name < $1.name }
        .prefix(limit).map { $0 }
    }
}

/// A JSON value in a result's problem-specific detail.
public indirect enum SolveDetail: Sendable, Codable, Equatable {
    case number(Double)
    case text(String)
    case list([SolveDetail])
    case object([String: SolveDetail])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .text(s)
        } else if let l = try? c.decode([SolveDetail].self) {
            self = .list(l)
        } else {
            self = .object(try c.decode([String: SolveDetail].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let n): try c.encode(n)
        case .text(let s): try c.encode(s)
        case .list(let l): try c.encode(l)
        case .object(let o): try c.encode(o)
        }
    }
}

/// Why a model could not be solved at all: malformed, or refused before the solver ran.
public struct SolveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why: a model the solver cannot take, a solver that failed, or a cancel before any answer.
    public enum Kind: String, Sendable {
        case invalidModel = "invalid_model"
        case solverFailed = "solver_failed"
        case cancelled
    }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
