/// One of the places an assignment template pairs up (a facility or a customer, a crew or a
/// work order): its path, and its number properties (`cost`, `capacity`, `demand`, `minutes`,
/// `priority`).
public struct Site: Sendable {
    public let path: String
    public let numbers: [String: Double]

    public init(path: String, numbers: [String: Double]) {
        self.path = path
        self.numbers = numbers
    }
}

/// A template's model, with the variable that assigns each (member, site) pair, so the answer
/// can say who goes where.
public struct AssignmentModel: Sendable {
    public let model: LinearModel
    public let assignments: [(key: (String, String), value: String)]
}

/// The MIPs behind `facility_location` and `crew_assignment`, built from places and the costs
/// between them. Here, beside the solvers, so the problem each template poses can be read and
/// tested without a store; the Gateway only gathers the places and the costs.
public enum AssignmentTemplates {
    /// A customer no facility is close enough to serve: the problem has no solution.
    public struct Unreachable: Error, Sendable {
        public let customer: String
    }

    /// Facility location and assignment: open facilities (binary, paying each one's `cost`),
    /// assign every customer to one open facility within `maxDistance`, within each facility's
    /// `capacity` (else `capacity`) of total demand; minimize opening costs plus demand ×
    /// distance. `distances[f][facilities.count + c]` is the cost from facility f to customer c.
    public static func facilityLocation(
        facilities: [Site],
        customers: [Site],
        distances: [[Double]],
        maxDistance: Double?,
        capacity: Double?
    ) throws(Unreachable) -> AssignmentModel {
        var variables: [LinearModel.Variable] = []
        var constraints: [LinearModel.Constraint] = []
        var objective: [String: Double] = [:]
        var assign: [(key: (String, String), value: String)] = []
        for facility in facilities {
            variables.append(.init(name: "open[\(facility.path)]", type: .binary))
            objective["open[\(facility.path)]"] = facility.numbers["cost"] ?? 0
        }
        for (c, customer) in customers.enumerated() {
            let demand = customer.numbers["demand"] ?? 1
            var choices: [String: Double] = [:]
            for (f, facility) in facilities.enumerated() {
                let d = distances[f][facilities.count + c]
                if let maxDistance, d > maxDistance { continue }
                let x = "assign[\(customer.path)→\(facility.path)]"
                variables.append(.init(name: x, type: .binary))
                objective[x] = demand * d
                choices[x] = 1
                assign.append(((customer.path, facility.path), x))
                constraints.append(
                    .init(
                        name: "only-open[\(customer.path)→\(facility.path)]",
                        terms: [x: 1, "open[\(facility.path)]": -1],
                        op: .lessOrEqual,
                        rhs: 0
                    )
                )
            }
            guard !choices.isEmpty else { throw Unreachable(customer: customer.path) }
            constraints.append(.init(name: "served[\(customer.path)]", terms: choices, op: .equal, rhs: 1))
        }
        for facility in facilities {
            guard let limit = facility.numbers["capacity"] ?? capacity else { continue }
            var terms: [String: Double] = ["open[\(facility.path)]": -limit]
            for customer in customers where assign.contains(where: { $0.key == (customer.path, facility.path) }) {
                terms["assign[\(customer.path)→\(facility.path)]"] = customer.numbers["demand"] ?? 1
            }
            constraints.append(.init(name: "capacity[\(facility.path)]", terms: terms, op: .lessOrEqual, rhs: 0))
        }
        return AssignmentModel(
            model: LinearModel(sense: .minimize, variables: variables, constraints: constraints, objective: objective),
            assignments: assign
        )
    }

    /// Crew assignment: each work order (`minutes`, `priority` 1–3) goes to one crew (`minutes`,
    /// else `capacity`, else 480: the minutes of its shift) within `maxDistance`, or is left for
    /// another day; a crew's orders fit its minutes; minimize the distance from each crew's
    /// depot to its orders, plus, for each order left, a penalty that grows with its priority
    /// (1 most urgent): 100 km × (4 − priority). `distances[c][crews.count + o]` is the cost from
    /// crew c to order o.
    public static func crewAssignment(
        crews: [Site],
        orders: [Site],
        distances: [[Double]],
        maxDistance: Double?,
        capacity: Double?
    ) -> AssignmentModel {
        var variables: [LinearModel.Variable] = []
        var constraints: [LinearModel.Constraint] = []
        var objective: [String: Double] = [:]
        var assign: [(key: (String, String), value: String)] = []
        var shift: [String: [String: Double]] = [:]
        for (o, order) in orders.enumerated() {
            let skip = "leave[\(order.path)]"
            variables.append(.init(name: skip, type: .binary))
            objective[skip] = 100_000 * (4 - min(3, max(1, order.numbers["priority"] ?? 2)))
            var choices: [String: Double] = [skip: 1]
            for (c, crew) in crews.enumerated() {
                let d = distances[c][crews.count + o]
                if let maxDistance, d > maxDistance { continue }
                let x = "assign[\(order.path)→\(crew.path)]"
                variables.append(.init(name: x, type: .binary))
                objective[x] = d
                choices[x] = 1
                assign.append(((order.path, crew.path), x))
                shift[crew.path, default: [:]][x] = order.numbers["minutes"] ?? 60
            }
            constraints.append(.init(name: "once[\(order.path)]", terms: choices, op: .equal, rhs: 1))
        }
        for crew in crews {
            let minutes = crew.numbers["minutes"] ?? capacity ?? 480
            if let terms = shift[crew.path] {
                constraints.append(.init(name: "shift[\(crew.path)]", terms: terms, op: .lessOrEqual, rhs: minutes))
            }
        }
        return AssignmentModel(
            model: LinearModel(sense: .minimize, variables: variables, constraints: constraints, objective: objective),
            assignments: assign
        )
    }
}
