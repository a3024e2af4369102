/// A named set of authorities. The four defaults always exist; an organization may redefine
/// their authorities or add its own roles (for example `validator` = read + solve).
public struct Role: Sendable, Codable, Equatable {
    public var name: String
    public var authorities: AuthoritySet
    public var description: String?

    public init(name: String, authorities: AuthoritySet, description: String? = nil) {
        self.name = name
        self.authorities = authorities
        self.description = description
    }

    public static let defaults: [Role] = [
        Role(name: "viewer", authorities: AuthoritySet([.read]), description: "reads files and history"),
        Role(
            name: "designer",
            authorities: AuthoritySet([.read, .write, .run, .solve]),
            description: "changes the world model and runs compute"
        ),
        Role(
            name: "reviewer",
            authorities: AuthoritySet([.read, .write, .run, .solve, .approve]),
            description: "a designer who also approves"
        ),
        Role(name: "admin", authorities: .all, description: "every authority, including configure"),
    ]
}
