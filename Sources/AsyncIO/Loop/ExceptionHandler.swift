import Logging

let defaultLogger = Logger(label: "asyncio")

/// What the loop knows about an error nobody else handled: asyncio's exception-handler context.
public struct ExceptionContext: Sendable, CustomStringConvertible {
    /// What happened, e.g. `"Task exception was never retrieved"`.
    public var message: String
    /// The error, if there was one.
    public var error: (any Error)?
    /// A description of the handle, future or task involved.
    public var source: String?

    /// Makes a context, for `EventLoop.callExceptionHandler`.
    public init(message: String, error: (any Error)? = nil, source: String? = nil) {
        self.message = message
        self.error = error
        self.source = source
    }

    public var description: String {
        var text = message
        if let source { text += " (\(source))" }
        if let error { text += ": \(error)" }
        return text
    }
}

/// A loop's exception handler: `(loop, context)`, as asyncio's `set_exception_handler` takes.
public typealias ExceptionHandler = @Sendable (EventLoop?, ExceptionContext) -> Void

extension LoopCore {
    /// Sends an error that nobody is looking at to the exception handler (default: log it).
    ///
    /// Callable from any thread: futures report unretrieved exceptions from `deinit`.
    func reportException(message: String, error: (any Error)? = nil, handle: Handle? = nil, source: String? = nil) {
        let context = ExceptionContext(message: message, error: error, source: source ?? handle?.description)
        let handler = exceptionHandler.withLock { $0 }
        if let handler {
            handler(facade, context)
        } else {
            defaultExceptionHandler(context)
        }
    }

    func defaultExceptionHandler(_ context: ExceptionContext) {
        let logger = loggerBox.withLock { $0 }
        logger.error("\(context.description)")
    }
}

extension EventLoop {
    /// Where this loop logs: the default exception handler's reports and, in debug mode, slow
    /// callbacks. Defaults to a swift-log `Logger` labelled `asyncio`; safe from any thread.
    ///
    /// Mirrors asyncio's module logger (`logging.getLogger("asyncio")`), made per loop so that a
    /// program or a test can route one loop's reports.
    public nonisolated var logger: Logger {
        get { core.loggerBox.withLock { $0 } }
        set { core.loggerBox.withLock { $0 = newValue } }
    }
}
