import Foundation

/// Runs a command-line tool to completion (with a deadline) and returns its exit status and output.
///
/// A tool that is not installed fails the test with a clear error: scripts/test.sh installs them
/// (curl, wrk, python3 with h11), and a missing one must not turn into a skipped test.
enum Tool {
    struct Missing: Error, CustomStringConvertible {
        var name: String
        var description: String { "\(name) is not installed: run scripts/test.sh, which installs it" }
    }

    struct Result: Sendable {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `name` (found on PATH) with `arguments`, feeding `input` to its stdin.
    static func run(
        _ name: String,
        _ arguments: [String],
        input: String? = nil,
        seconds: Double = 60
    ) async throws
        -> Result
    {
        guard let path = find(name) else { throw Missing(name: name) }
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: path)
                process.arguments = arguments
                let output = Pipe()
                let errors = Pipe()
                let stdin = Pipe()
                process.standardOutput = output
                process.standardError = errors
                process.standardInput = stdin
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
                try? stdin.fileHandleForWriting.close()
                let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: killer)
                let out = output.fileHandleForReading.readDataToEndOfFile()
                let err = errors.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                killer.cancel()
                continuation.resume(
                    returning: Result(
                        status: process.terminationStatus,
                        output: String(decoding: out, as: UTF8.self),
                        errors: String(decoding: err, as: UTF8.self)
                    )
                )
            }.start()
        }
    }

    static func find(_ name: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in paths + ["/usr/sbin", "/sbin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The directory of this test target's helper scripts.
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scripts")
}
