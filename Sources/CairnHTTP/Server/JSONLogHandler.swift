import CairnCore
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

    public func log(event: LogEvent) {
        var object: [String: String] = [:]
        for (k, v) in metadata { object[k] = "\(v)" }
        if let extra = event.metadata { for (k, v) in extra { object[k] = "\(v)" } }
        object["time"] = Self.timestamp()
        object["level"] = event.level.rawValue
        object["label"] = label
        object["message"] = "\(event.message)"
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        line.append(0x0a)
        Self.lock.withLock { _ in FileHandle.standardError.write(line) }
    }

    static func timestamp() -> String { Clock.rfc3339(Clock.nowMillis()) }
}
