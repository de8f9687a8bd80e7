extension EventLoop {
    /// Starts `program` with `arguments` and connects it to a protocol made by `factory`.
    ///
    /// The program is looked up on PATH unless it contains a slash. The child starts with an empty
    /// signal mask, SIGPIPE at its default, and no descriptor but 0, 1 and 2 (see `ProcessIO`).
    /// Its exit is watched through a pidfd and it is reaped as soon as it exits; closing the loop
    /// kills (SIGKILL) and reaps every child of the loop still running, so none is left behind.
    ///
    /// - Parameters:
    ///   - environment: the child's whole environment; nil inherits this process's.
    ///   - workingDirectory: the child's working directory; nil inherits this process's.
    ///   - processGroup: puts the child in that process group; 0 makes a new group led by the
    ///     child (asyncio's `process_group=`).
    ///   - startNewSession: the child starts a new session (`setsid`; `start_new_session=`).
    /// - Throws: `SystemError` (ENOENT: no such program; EACCES; EMFILE);
    ///   `AsyncIOError.invalidArgument` for `.stdout` as stdin or stdout.
    /// - Returns: the transport and the protocol. Mirrors `loop.subprocess_exec(protocol_factory,
    ///   *args, stdin=PIPE, stdout=PIPE, stderr=PIPE, env=, cwd=, process_group=,
    ///   start_new_session=)`.
    public func subprocessExec<P: SubprocessProtocol>(
        _ factory: () throws -> P,
        _ program: String,
        _ arguments: [String] = [],
        stdin: ProcessIO = .pipe,
        stdout: ProcessIO = .pipe,
        stderr: ProcessIO = .pipe,
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        processGroup: Int32? = nil,
        startNewSession: Bool = false
    ) async throws -> (any SubprocessTransport, P) {
        let proto = try factory()
        let request = SpawnRequest(
            program: program,
            arguments: arguments,
            stdin: stdin,
            stdout: stdout,
            stderr: stderr,
            environment: environment,
            workingDirectory: workingDirectory,
            processGroup: processGroup,
            startNewSession: startNewSession
        )
        let child = try Spawn.start(request)
        let transport = ChildProcessTransport(loop: self, child: child, protocol: proto)
        do {
            try transport.start(child, loop: self)
        } catch {
            transport.close()
            throw error
        }
        return (transport, proto)
    }

    /// Runs `command` with `/bin/sh -c` and connects it to a protocol made by `factory`.
    ///
    /// The command is given to the shell as it is: quote what comes from elsewhere.
    ///
    /// - Throws: as `subprocessExec`. Mirrors `loop.subprocess_shell(protocol_factory, cmd, …)`.
    public func subprocessShell<P: SubprocessProtocol>(
        _ factory: () throws -> P,
        _ command: String,
        stdin: ProcessIO = .pipe,
        stdout: ProcessIO = .pipe,
        stderr: ProcessIO = .pipe,
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        processGroup: Int32? = nil,
        startNewSession: Bool = false
    ) async throws -> (any SubprocessTransport, P) {
        try await subprocessExec(
            factory,
            "/bin/sh",
            ["-c", command],
            stdin: stdin,
            stdout: stdout,
            stderr: stderr,
            environment: environment,
            workingDirectory: workingDirectory,
            processGroup: processGroup,
            startNewSession: startNewSession
        )
    }

    /// Starts `program` with `arguments` and returns a `Process` whose pipes are streams.
    ///
    /// Standard descriptors are inherited unless asked for (`.pipe` makes `process.stdin` a
    /// `StreamWriter`, `process.stdout` / `stderr` `StreamReader`s with `limit`).
    ///
    /// - Throws: as `subprocessExec`. Mirrors `asyncio.create_subprocess_exec(program, *args,
    ///   stdin=None, stdout=None, stderr=None, limit=None, **kwds)`.
    public func createSubprocessExec(
        _ program: String,
        _ arguments: [String] = [],
        stdin: ProcessIO = .inherit,
        stdout: ProcessIO = .inherit,
        stderr: ProcessIO = .inherit,
        limit: Int = StreamReader.defaultLimit,
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        processGroup: Int32? = nil,
        startNewSession: Bool = false
    ) async throws -> Process {
        let (transport, proto) = try await subprocessExec(
            { try SubprocessStreamProtocol(limit: limit) },
            program,
            arguments,
            stdin: stdin,
            stdout: stdout,
            stderr: stderr,
            environment: environment,
            workingDirectory: workingDirectory,
            processGroup: processGroup,
            startNewSession: startNewSession
        )
        return Process(transport: transport as! ChildProcessTransport, protocol: proto)
    }

    /// Runs `command` with `/bin/sh -c` and returns a `Process` whose pipes are streams.
    ///
    /// - Throws: as `subprocessExec`. Mirrors `asyncio.create_subprocess_shell(cmd, …)`.
    public func createSubprocessShell(
        _ command: String,
        stdin: ProcessIO = .inherit,
        stdout: ProcessIO = .inherit,
        stderr: ProcessIO = .inherit,
        limit: Int = StreamReader.defaultLimit,
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        processGroup: Int32? = nil,
        startNewSession: Bool = false
    ) async throws -> Process {
        try await createSubprocessExec(
            "/bin/sh",
            ["-c", command],
            stdin: stdin,
            stdout: stdout,
            stderr: stderr,
            limit: limit,
            environment: environment,
            workingDirectory: workingDirectory,
            processGroup: processGroup,
            startNewSession: startNewSession
        )
    }
}
