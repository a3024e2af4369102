import CairnCore
import CairnStore
import Foundation
import Logging
import Synchronization

/// Log lines as JSON objects, one per line, on standard error: what log collectors ingest
/// without a parsing rule. swift-log ships only a plain-text handler, and a JSON one is a few
/// lines, so it is written here rather than taken from a less-kept package.
///
/// Each line has `time` (RFC 3339, UTC, milliseconds), `level`, `label`, `message` and the
/// metadata as string members. Nothing here adds a secret: callers log no header values.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private static let lock = Mutex(())

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one JSON line; messages and metadata are escaped by the same writer as API answers.
    public func log(event: LogEvent) {
        var object: [String: String] = [:]
        for (k, v) in metadata { object[k] = "\(v)" }
        if let extra = event.metadata { for (k, v) in extra { object[k] = "\(v)" } }
        object["time"] = Self.timestamp()
        object["level"] = event.level.rawValue
        object["label"] = label
        object["message"] = "\(event.message)"
        let line = Self.line(object)
        Self.lock.withLock { _ in FileHandle.standardError.write(Data(line)) }
    }

    /// One object of string members, keys in byte order, and a newline. Written here, not with
    /// `JSONSerialization`: every request logs a line, and Foundation's sorted-keys writer
    /// (locale-aware key comparison, bridging to NSString) was a fifth of the release server's
    /// CPU in a profile under small reads.
    static func line(_ object: [String: String]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(256)
        for (i, member) in object.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(member.key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.appendString(member.value, to: &out)
        }
        out.append(contentsOf: [UInt8(ascii: "}"), 0x0a])
        return out
    }

    static func timestamp() -> String { Clock.rfc3339(Clock.nowMillis()) }
}
