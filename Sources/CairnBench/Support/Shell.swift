import Foundation
import Synchronization

/// Runs outside tools (git, ripgrep, find) as peers.
enum Shell {
    @discardableResult
    static func run(
        _ tool: String,
        _ args: [String],
        cwd: String? = nil,
        stdin: Data? = nil,
        quiet: Bool = true
    ) throws -> (status: Int32, out: Data) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = quiet ? FileHandle.nullDevice : FileHandle.standardError
        let input = Pipe()
        p.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try p.run()
        if let stdin {
            let writer = input.fileHandleForWriting
            DispatchQueue.global().async {
                writer.write(stdin)
                try? writer.close()
            }
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, data)
    }

    static func has(_ tool: String) -> Bool { (try? run("which", [tool]).status) == 0 }

    /// Like `run`, with the tool's environment given and its standard error kept.
    static func capture(
        _ tool: String,
        _ args: [String],
        environment: [String: String]? = nil
    ) throws -> (status: Int32, out: Data, err: Data) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        if let environment { p.environment = environment }
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Standard error is read beside standard output, so neither pipe fills while the other waits.
        let errData = Mutex(Data())
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let bytes = err.fileHandleForReading.readDataToEndOfFile()
            errData.withLock { $0 = bytes }
            done.signal()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        done.wait()
        return (p.terminationStatus, data, errData.withLock { $0 })
    }
}
