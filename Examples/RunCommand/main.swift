// Runs a command and prints its standard output and standard error line by line as they come,
// prefixed `out:` and `err:`, then exits with the command's status (128 + N if signal N ended it,
// as shells report it). SIGINT and SIGTERM are passed on to the command.
//
//     $ swift run RunCommand sh -c 'echo hello; echo oops >&2; exit 3'
//     out: hello
//     err: oops
//     $ echo $?
//     3
//
// Usage: swift run RunCommand CMD [ARG…]
import AsyncIO
import Glibc

/// Writes `message` and a newline to `fd` at once, unbuffered (a pipe reader sees each line when
/// it is printed, not when a buffer fills).
func output(_ message: some Collection<UInt8>, to fd: Int32 = 1) {
    var bytes = Array(message)
    bytes.append(UInt8(ascii: "\n"))
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written > 0 else { return }
        offset += written
    }
}

func complain(_ message: String) { output(message.utf8, to: 2) }

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    complain("usage: RunCommand CMD [ARG…]")
    exit(2)
}

/// Prints each line of `stream` with `prefix` as soon as it is complete (and a last line without
/// a newline at the end of the stream).
func printLines(of stream: StreamReader, prefix: String) async throws {
    while true {
        var line = try await stream.readLine()
        if line.isEmpty { return }
        if line.last == UInt8(ascii: "\n") { line.removeLast() }
        output(Array(prefix.utf8) + line)
    }
}

do {
    let status = try run { loop in
        let process = try await loop.createSubprocessExec(
            command,
            Array(arguments.dropFirst()),
            stdout: .pipe,
            stderr: .pipe
        )
        for signal in [SIGINT, SIGTERM] {
            try loop.addSignalHandler(signal) { try? process.sendSignal(signal) }
        }
        let output = loop.createTask { try await printLines(of: process.stdout!, prefix: "out: ") }
        let errors = loop.createTask { try await printLines(of: process.stderr!, prefix: "err: ") }
        try await output.value
        try await errors.value
        let code = try await process.wait()
        return code >= 0 ? code : 128 - code
    }
    exit(status)
} catch let error as SystemError where error.errno == ENOENT {
    complain("RunCommand: \(command): command not found")
    exit(127)
} catch {
    complain("RunCommand: \(error)")
    exit(1)
}
