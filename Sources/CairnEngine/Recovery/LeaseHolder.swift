import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Who holds a run's lease: one process of one server, named so that another process on the
/// same machine can tell for certain that it died, without waiting for its lease to expire.
///
/// The name is `BOOT/PIDNS/PID/NONCE`: the kernel's boot id and the process's PID namespace say
/// whether a holder ran where this process runs (same kernel since the same boot, same process
/// numbers); if so and its PID is gone, it is dead, and a server restarted after a crash takes
/// its runs over at once. A PID reused since makes the holder look alive, which only means
/// waiting for the lease to expire. Holders on other machines are judged by expiry alone.
public struct LeaseHolder: Sendable, Equatable {
    public let id: String

    /// This process, with a fresh nonce (two engines in one process never share a name).
    public static func current() -> LeaseHolder {
        LeaseHolder(id: "\(place ?? "elsewhere/0")/\(getpid())/\(UUID().uuidString.prefix(8).lowercased())")
    }

    public init(id: String) { self.id = id }

    /// True only when the holder certainly ran on this machine and its process is gone.
    public var isCertainlyDead: Bool {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard let place = Self.place, parts.count == 4, "\(parts[0])/\(parts[1])" == place, let pid = pid_t(parts[2]), pid > 0,
            pid != getpid()  // this process, or one before it with the same number: alive, or unknowable
        else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// The boot and PID namespace of this process; nil where the system does not say (then no
    /// holder is ever judged dead here, only expired).
    static let place: String? = {
        guard
            let boot = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines
            ),
            !boot.isEmpty, !boot.contains("/"),
            let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")
        else { return nil }
        let digits = namespace.filter(\.isNumber)
        return digits.isEmpty ? nil : "\(boot)/\(digits)"
    }()
}
