import CairnCore
import CairnStore
import Foundation
import Logging
import NIOCore
import PostgresNIO

extension PostgresStorage {
    public var isShared: Bool { true }

    /// The store's own channel: stores sharing a cluster never hear each other.
    var channel: String { "cairn_\(storeID)" }

    /// PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more; larger messages are stored
    /// and the notification carries their row number.
    static let inlinePayloadLimit = 7000
    /// How long a stored large message waits for the other servers before it is pruned.
    static let storedMessageMillis: Millis = 10 * 60 * 1000

    /// Tells every server listening on this store (this one included; receivers drop their
    /// own) about a change, after the change committed. Best effort, like the feed itself: a
    /// server that was not listening at that moment does not hear it.
    public func broadcast(_ message: [UInt8]) async throws {
        if message.count <= Self.inlinePayloadLimit {
            _ = try await rows("SELECT pg_notify(\(channel), \(String(decoding: message, as: UTF8.self)))")
            return
        }
        let now = Clock.nowMillis()
        let stored = try await rows("INSERT INTO broadcast (time_ms, body) VALUES (\(now), \(ByteBuffer(bytes: message))) RETURNING id")
        let id = try stored[0].decode(Int64.self)
        _ = try await rows("SELECT pg_notify(\(channel), \("@\(id)"))")
        if id % 64 == 0 { _ = try await rows("DELETE FROM broadcast WHERE time_ms < \(now - Self.storedMessageMillis)") }
    }

    /// The messages servers broadcast on this store, for as long as the stream is consumed. A
    /// dropped connection is re-established after a pause; what was sent meanwhile is missed.
    public func broadcasts() -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let task = Task {
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: self.channel) { notifications in
                            for try await note in notifications {
                                if let message = try await self.message(note.payload) { continuation.yield(message) }
                            }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("lost the announcement channel; listening again in 1 s", metadata: ["store": "\(location)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func message(_ payload: String) async throws -> [UInt8]? {
        guard payload.hasPrefix("@") else { return Array(payload.utf8) }
        guard let id = Int64(payload.dropFirst()) else { return nil }
        return try await rows("SELECT body FROM broadcast WHERE id = \(id)").first.map { Array(buffer: try $0.decode(ByteBuffer.self)) }
    }
}
