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

    public init(
        issuer: String,
        jwksURL: String? = nil,
        audience: String,
        userClaim: String = "sub",
        groupsClaim: String = "groups",
        clockSkewSeconds: Int = 60
    ) {
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

    /// Refuses settings that could never verify a token (a non-HTTP(S) issuer or key URL, an empty
    /// audience or claim, a skew beyond ten minutes) before they are stored.
    public func validate() throws(CairnError) {
        guard Self.isWebURL(issuer) else {
            throw CairnError(
                .invalidArgument,
                "the issuer must be an http(s) URL: http(s)://HOST[:PORT][/PATH], a host name or IPv4 address",
                details: ["issuer": issuer]
            )
        }
        if let jwksURL, !Self.isWebURL(jwksURL) {
            throw CairnError(
                .invalidArgument,
                "jwksURL must be an http(s) URL: http(s)://HOST[:PORT][/PATH], a host name or IPv4 address",
                details: ["jwksURL": jwksURL]
            )
        }
        guard !audience.isEmpty else { throw CairnError(.invalidArgument, "an audience is required") }
        guard !userClaim.isEmpty, !groupsClaim.isEmpty else {
            throw CairnError(.invalidArgument, "userClaim and groupsClaim name claims of the token and cannot be empty")
        }
        guard (0...600).contains(clockSkewSeconds) else {
            throw CairnError(.invalidArgument, "clockSkewSeconds must be between 0 and 600")
        }
    }

    /// `http(s)://HOST[:PORT][/PATH]` with a host of letters, digits, `.` and `-` (a name or an
    /// IPv4 address), a port of up to 5 digits, and a path of printable ASCII: the grammar the
    /// OpenAPI document states (`^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$`), checked the
    /// same way here, so the server accepts exactly what the document allows.
    static func isWebURL(_ s: String) -> Bool {
        let u = Array(s.utf8)
        let prefix: Int
        if u.starts(with: Array("https://".utf8)) {
            prefix = 8
        } else if u.starts(with: Array("http://".utf8)) {
            prefix = 7
        } else {
            return false
        }
        var i = prefix
        func isHost(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 46 || c == 45 }
        while i < u.count, isHost(u[i]) { i += 1 }
        guard i > prefix else { return false }
        if i < u.count, u[i] == 58 {
            let start = i + 1
            i = start
            while i < u.count, u[i] >= 48, u[i] <= 57 { i += 1 }
            guard (1...5).contains(i - start) else { return false }
        }
        guard i < u.count else { return true }
        guard u[i] == 47 else { return false }
        return u[(i + 1)...].allSatisfy { $0 >= 33 && $0 <= 126 }
    }
}
