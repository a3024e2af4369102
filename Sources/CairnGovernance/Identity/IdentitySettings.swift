import CairnCore

/// An organization's identity provider (OIDC), stored as `.cairn/access/identity.json` in its
/// system project. Users and their groups come from the configured claims; groups map to roles
/// through ordinary grants to `group:NAME`.
public struct IdentitySettings: Sendable, Codable, Equatable {
    public var issuer: String
    /// Where the signing keys are; when absent, found through the issuer's discovery document.
    public var jwksURL: String?
    public var audience: String
    public var userClaim: String
    public var groupsClaim: String
    /// Tolerated clock difference for exp, nbf and iat, in seconds.
    public var clockSkewSeconds: Int

    public init(issuer: String, jwksURL: String? = nil, audience: String, userClaim: String = "sub", groupsClaim: String = "groups", clockSkewSeconds: Int = 60) {
        self.issuer = issuer
        self.jwksURL = jwksURL
        self.audience = audience
        self.userClaim = userClaim
        self.groupsClaim = groupsClaim
        self.clockSkewSeconds = clockSkewSeconds
    }

    private enum CodingKeys: String, CodingKey { case issuer, jwksURL, audience, userClaim, groupsClaim, clockSkewSeconds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        issuer = try c.decode(String.self, forKey: .issuer)
        jwksURL = try c.decodeIfPresent(String.self, forKey: .jwksURL)
        audience = try c.decode(String.self, forKey: .audience)
        userClaim = try c.decodeIfPresent(String.self, forKey: .userClaim) ?? "sub"
        groupsClaim = try c.decodeIfPresent(String.self, forKey: .groupsClaim) ?? "groups"
        clockSkewSeconds = try c.decodeIfPresent(Int.self, forKey: .clockSkewSeconds) ?? 60
    }

    public func validate() throws(CairnError) {
        guard issuer.hasPrefix("https://") || issuer.hasPrefix("http://") else {
            throw CairnError(.invalidArgument, "the issuer must be an http(s) URL", details: ["issuer": issuer])
        }
        if let jwksURL, !(jwksURL.hasPrefix("https://") || jwksURL.hasPrefix("http://")) {
            throw CairnError(.invalidArgument, "jwksURL must be an http(s) URL", details: ["jwksURL": jwksURL])
        }
        guard !audience.isEmpty else { throw CairnError(.invalidArgument, "an audience is required") }
        guard !userClaim.isEmpty, !groupsClaim.isEmpty else {
            throw CairnError(.invalidArgument, "userClaim and groupsClaim name claims of the token and cannot be empty")
        }
        guard (0...600).contains(clockSkewSeconds) else {
            throw CairnError(.invalidArgument, "clockSkewSeconds must be between 0 and 600")
        }
    }
}
