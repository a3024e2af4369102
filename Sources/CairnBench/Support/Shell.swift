import Foundation

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
}
