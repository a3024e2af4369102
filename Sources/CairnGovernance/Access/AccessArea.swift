/// The access area: roles, grants, members, API keys, the identity provider and the approval
/// settings, all stored as files in the organization's system project and changed only with
/// `configure` (or `share`), through the core's authorization and audit; plus what access looked
/// like at a time, AuthZEN evaluation and the shadow report. It keeps nothing of its own between
/// calls: the policy it changes is the one the core decides with, reloaded when its files move.
public struct AccessArea: Sendable {
    /// The Gateway whose core this area calls.
    let core: Gateway
}

extension Gateway {
    /// Roles, grants, members, keys and identity settings (see `AccessArea`).
    public var access: AccessArea { AccessArea(core: self) }
}
