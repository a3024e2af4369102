import Crypto
import Foundation
import Synchronization

/// The web console's sign-ins: a random session id in an HttpOnly, SameSite=Strict cookie, the
/// credential it stands for kept here, in memory only (never in the store, never in a log, never
/// sent back), so a restart signs everyone out. Every request made with the cookie is an ordinary
/// API call authenticated by that credential, so a revoked key or a removed grant binds the next
/// request; state-changing requests must also carry the session's CSRF token.
final class ConsoleSessions: Sendable {
    static let cookie = "cairn_session"
    static let csrfHeader = "X-CSRF-Token"

    struct Session: Sendable {
        let organization: String
        /// The Authorization header value the session stands for (`Bearer …`).
        let authorization: String
        let subject: String
        let csrf: String
        let expires: Date
    }

    /// How long a sign-in lasts, at most; it ends sooner by sign-out or restart.
    let lifetime: TimeInterval
    private let sessions = Mutex<[String: Session]>([:])

    init(lifetime: TimeInterval = 8 * 3600) {
        self.lifetime = lifetime
    }

    /// A new session for a credential that has just authenticated; its id (for the cookie).
    func open(organization: String, authorization: String, subject: String) -> (id: String, session: Session) {
        let id = Self.random()
        let session = Session(
            organization: organization,
            authorization: authorization,
            subject: subject,
            csrf: Self.random(),
            expires: Date().addingTimeInterval(lifetime)
        )
        sessions.withLock { all in
            let now = Date()
            all = all.filter { $0.value.expires > now }
            all[id] = session
        }
        return (id, session)
    }

    /// The live session a cookie names, if any.
    func session(_ id: String?) -> Session? {
        guard let id, !id.isEmpty, id.utf8.count <= 128 else { return nil }
        return sessions.withLock { all in
            guard let s = all[id] else { return nil }
            guard s.expires > Date() else {
                all[id] = nil
                return nil
            }
            return s
        }
    }

    func close(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// Compares a request's CSRF token with the session's in constant time.
    static func csrfMatches(_ given: String?, _ expected: String) -> Bool {
        guard let given else { return false }
        let a = Array(given.utf8)
        let b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    /// The session id a request's Cookie header carries.
    static func id(fromCookieHeader header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(cookie + "=") { return String(pair.dropFirst(cookie.count + 1)) }
        }
        return nil
    }

    private static func random() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
