import CairnCore
import Foundation

/// Where a PostgreSQL store lives, parsed from a `postgres://` URL.
///
/// The password may come in the URL, but operators should give it through the environment or
/// a file (see `CairnCLI`'s store options): a URL ends up in shell history and process lists.
/// Whatever its source, it never appears in `description`, errors or logs.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var password: String?
    /// A schema of its own inside the database, created on first use: several stores (or test
    /// runs) can then share one database without seeing each other.
    public var schema: String?
    public var tls: TLSMode
    /// Connections this process keeps at most (a server's pool size).
    public var poolSize = 24

    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require&schema=NAME&pool=N]`.
    /// A password in the URL wins over `password` (from the environment or a file), as with libpq.
    public init(url: String, password: String? = nil) throws {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, scheme == "postgres" || scheme == "postgresql" else {
            throw CairnError(
                .invalidArgument,
                "a database URL looks like postgres://USER@HOST:PORT/DATABASE (the one given could not be read)"
            )
        }
        guard let host = parts.host, !host.isEmpty else {
            throw CairnError(.invalidArgument, "the database URL names no host (postgres://USER@HOST:PORT/DATABASE)")
        }
        self.host = host
        port = parts.port ?? 5432
        user = parts.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let path = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        database = path.isEmpty ? user : (path.removingPercentEncoding ?? path)
        self.password = parts.password.flatMap { $0.removingPercentEncoding } ?? password
        tls = .prefer
        schema = nil
        for item in parts.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw CairnError(
                        .invalidArgument,
                        "sslmode in the database URL must be disable, prefer or require",
                        details: ["parameter": "sslmode"]
                    )
                }
                tls = mode
            case "schema":
                guard let name = item.value, Self.isPlainIdentifier(name) else {
                    throw CairnError(
                        .invalidArgument,
                        "schema in the database URL must be a plain name (lower-case letters, digits, _; at most 63 bytes)",
                        details: ["parameter": "schema"]
                    )
                }
                schema = name
            case "pool":
                guard let size = item.value.flatMap(Int.init), (1...500).contains(size) else {
                    throw CairnError(
                        .invalidArgument,
                        "pool in the database URL must be a number of connections from 1 to 500",
                        details: ["parameter": "pool"]
                    )
                }
                poolSize = size
            default:
                throw CairnError(
                    .invalidArgument,
                    "unknown parameter '\(item.name)' in the database URL; known: sslmode, schema, pool",
                    details: ["parameter": item.name]
                )
            }
        }
    }

    /// The URL without its password, for messages and logs.
    public var description: String {
        var text = "postgres://\(user)@\(host):\(port)/\(database)"
        var query: [String] = []
        if tls != .prefer { query.append("sslmode=\(tls.rawValue)") }
        if let schema { query.append("schema=\(schema)") }
        if poolSize != 24 { query.append("pool=\(poolSize)") }
        if !query.isEmpty { text += "?" + query.joined(separator: "&") }
        return text
    }

    /// Names interpolated into SQL (a schema cannot be a bound parameter) are held to this.
    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 63, first == UInt8(ascii: "_") || (first >= 97 && first <= 122) else {
            return false
        }
        return name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) }
    }

    /// The password from `CAIRN_DATABASE_PASSWORD`, else from `file` or the file named by
    /// `CAIRN_DATABASE_PASSWORD_FILE`; nil when none is given.
    public static func password(
        file: String? = nil,
        environment env: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> String? {
        if let direct = env["CAIRN_DATABASE_PASSWORD"] { return direct }
        guard let file = file ?? env["CAIRN_DATABASE_PASSWORD_FILE"] else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CairnError(.notFound, "cannot read the database password file '\(file)'", details: ["file": file])
        }
        // A trailing newline is how editors save files, never part of a password.
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    /// Whether a string is a PostgreSQL URL rather than a file path.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }
}
