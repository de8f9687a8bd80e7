import AsyncIO
import AsyncIOTesting
import Foundation
import Glibc
import Testing

/// Subprocesses against real programs (`cat`, `sh`, `sleep`): streams, the protocol API, signals,
/// many children at once, and no child left behind.
@Suite struct SubprocessTests {
    /// True once `pid` is gone for good: reaped (a zombie still answers signal 0).
    static func isReaped(_ pid: Int32) -> Bool {
        Glibc.kill(pid, 0) == -1 && errno == ESRCH
    }

    @Test func catRoundTripsOneHundredMebibytesThroughCommunicate() async throws {
        // 1600 blocks of 64 KiB, each a different rotation of one pattern (cheap to make in debug).
        let block = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        var input: [UInt8] = []
        input.reserveCapacity(100 * 1024 * 1024)
        for round in 0..<1600 {
            input.append(contentsOf: block[(round * 97 % 65_536)...])
            input.append(contentsOf: block[..<(round * 97 % 65_536)])
        }
        let (output, code) = try await EventLoopThread.run { [input] loop in
            let process = try await loop.createSubprocessExec("cat", stdin: .pipe, stdout: .pipe)
            let (output, errors) = try await process.communicate(input: input)
            #expect(errors == nil)
            return (output ?? [], process.returncode)
        }
        #expect(code == 0)
        #expect(output.count == input.count)
        #expect(output == input)
    }

    @Test func shellCommandsGiveTheirOutputAndStatus() async throws {
        let (output, errors, code) = try await EventLoopThread.run { loop in
            let process = try await loop.createSubprocessShell(
                "echo out; echo err >&2; exit 3",
                stdout: .pipe,
                stderr: .pipe
            )
            let (output, errors) = try await process.communicate()
            return (output ?? [], errors ?? [], try await process.wait())
        }
        #expect(String(decoding: output, as: UTF8.self) == "out\n")
        #expect(String(decoding: errors, as: UTF8.self) == "err\n")
        #expect(code == 3)
    }

    @Test func aChildThatIgnoresSIGTERMIsStillRunningUntilSIGKILL() async throws {
        let (afterTerm, code, signalAfterWait) = try await EventLoopThread.run { loop in
            let process = try await loop.createSubprocessExec(
                "sh",
                ["-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"],
                stdout: .pipe
            )
            _ = try await process.stdout!.readLine()
            try process.terminate()
            try await sleep(.milliseconds(300))
            let afterTerm = process.returncode
            try process.kill()
            let code = try await process.wait()
            var signalAfterWait = ""
            do { try process.sendSignal(SIGTERM) } catch { signalAfterWait = "\(error)" }
            return (afterTerm, code, signalAfterWait)
        }
        #expect(afterTerm == nil)
        #expect(code == -SIGKILL)
        #expect(signalAfterWait.contains("errno \(ESRCH)"))
    }

    @Test func aChildThatClosesStdoutEarlyGivesEOFBeforeItExits() async throws {
        let (output, runningAtEOF, errors, code) = try await EventLoopThread.run { loop in
            let process = try await loop.createSubprocessExec(
                "sh",
                ["-c", "echo early; exec 1>&-; sleep 0.3; echo late >&2; exit 7"],
                stdout: .pipe,
                stderr: .pipe
            )
            let output = try await process.stdout!.read()
            let runningAtEOF = process.returncode == nil
            let errors = try await process.stderr!.read()
            return (output, runningAtEOF, errors, try await process.wait())
        }
        #expect(String(decoding: output, as: UTF8.self) == "early\n")
        #expect(runningAtEOF)
        #expect(String(decoding: errors, as: UTF8.self) == "late\n")
        #expect(code == 7)
    }

    @Test func fiveHundredChildrenInParallelAreAllReaped() async throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = max(limit.rlim_cur, min(limit.rlim_max, 8192))
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let results = try await EventLoopThread.run { loop in
            let tasks = (0..<500).map { index in
                loop.createTask { () async throws -> (Int32, Int32, String) in
                    let process = try await loop.createSubprocessExec(
                        "sh",
                        ["-c", "echo \(index); exit \(index % 7)"],
                        stdout: .pipe
                    )
                    let output = try await process.stdout!.read()
                    return (process.pid, try await process.wait(), String(decoding: output, as: UTF8.self))
                }
            }
            var results: [(Int32, Int32, String)] = []
            for task in tasks { results.append(try await task.value) }
            return results
        }
        #expect(results.count == 500)
        for (index, (pid, code, output)) in results.enumerated() {
            #expect(code == Int32(index % 7))
            #expect(output == "\(index)\n")
            #expect(Self.isReaped(pid))
        }
    }

    @Test func closingTheLoopKillsAndReapsChildrenStillRunning() async throws {
        let pids = try await EventLoopThread.run { loop in
            var pids: [Int32] = []
            for _ in 0..<3 {
                let process = try await loop.createSubprocessExec("sleep", ["30"], stdout: .pipe)
                pids.append(process.pid)
            }
            let (transport, _) = try await loop.subprocessExec({ RecordingSubprocess() }, "sleep", ["30"])
            pids.append(transport.pid)
            return pids
        }
        for pid in pids { #expect(Self.isReaped(pid)) }
    }

    @Test func theProtocolAPIReportsPipesThenTheExitThenTheEnd() async throws {
        let events = try await EventLoopThread.run { loop in
            let (transport, proto) = try await loop.subprocessExec(
                { RecordingSubprocess() },
                "sh",
                ["-c", "read line; echo \"got $line\"; echo oops >&2; exit 2"]
            )
            let stdin = transport.pipeTransport(fd: 0) as! any WriteTransport
            try stdin.write("hello\n")
            try await proto.finished.value
            #expect(transport.returncode == 2)
            #expect(transport.pipeTransport(fd: 3) == nil)
            return proto.events
        }
        #expect(events.first == "CM")
        #expect(events.last == "CL")
        #expect(events.contains("1: got hello\n"))
        #expect(events.contains("2: oops\n"))
        for fd in 0...2 { #expect(events.contains("lost \(fd)")) }
        #expect(events.contains("exited"))
        #expect(events.firstIndex(of: "exited")! < events.firstIndex(of: "CL")!)
    }

    @Test func environmentWorkingDirectoryGroupAndSession() async throws {
        let (output, group, session) = try await EventLoopThread.run { loop in
            let process = try await loop.createSubprocessExec(
                "sh",
                ["-c", "echo \"$GREETING\"; pwd; cat"],
                stdin: .pipe,
                stdout: .pipe,
                environment: ["GREETING": "hi there", "PATH": "/usr/bin:/bin"],
                workingDirectory: "/tmp"
            )
            try process.stdin!.write("x\n")
            process.stdin!.close()
            let output = try await process.stdout!.read()
            _ = try await process.wait()
            let grouped = try await loop.createSubprocessExec("sleep", ["5"], processGroup: 0)
            let group = getpgid(grouped.pid) == grouped.pid && getpgid(grouped.pid) != getpgid(0)
            try grouped.kill()
            _ = try await grouped.wait()
            let leader = try await loop.createSubprocessExec("sleep", ["5"], startNewSession: true)
            let session = getsid(leader.pid) == leader.pid
            try leader.kill()
            _ = try await leader.wait()
            return (String(decoding: output, as: UTF8.self), group, session)
        }
        #expect(output == "hi there\n/tmp\nx\n")
        #expect(group)
        #expect(session)
    }

    @Test func aMissingProgramIsAnErrorNotAChild() async throws {
        let errors = try await EventLoopThread.run { loop in
            var errors: [Int32] = []
            for program in ["no-such-program-here", "/nonexistent/program"] {
                do { _ = try await loop.createSubprocessExec(program) } catch let error as SystemError {
                    errors.append(error.errno)
                }
            }
            return errors
        }
        #expect(errors == [ENOENT, ENOENT])
    }

    @Test func onlyStandardDescriptorsReachTheChild() async throws {
        let listing = try await EventLoopThread.run { loop in
            // A descriptor without close-on-exec in the parent must not leak into the child.
            let leaky = open("/dev/null", O_RDONLY)
            defer { close(leaky) }
            let process = try await loop.createSubprocessExec("ls", ["/proc/self/fd"], stdout: .pipe)
            let output = try await process.stdout!.read()
            _ = try await process.wait()
            return String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
        }
        // ls's own directory descriptor shows up as well.
        #expect(Set(listing).isSubset(of: ["0", "1", "2", "3"]))
    }
}

/// Records a subprocess protocol's callbacks.
final class RecordingSubprocess: SubprocessProtocol {
    var events: [String] = []
    let finished: Future<Void>

    init() {
        finished = try! Future<Void>()
    }

    func connectionMade(_ transport: any SubprocessTransport, loop: isolated EventLoop) { events.append("CM") }
    func pipeDataReceived(fd: Int32, data: Span<UInt8>, loop: isolated EventLoop) {
        events.append("\(fd): \(String(decoding: data, as: UTF8.self))")
    }
    func pipeConnectionLost(fd: Int32, error: (any Error)?, loop: isolated EventLoop) {
        events.append("lost \(fd)")
    }
    func processExited(loop: isolated EventLoop) { events.append("exited") }
    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        events.append("CL")
        try? finished.setResult(())
    }
}
