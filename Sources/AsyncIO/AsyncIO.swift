/// AsyncIO: Python's asyncio in Swift — an epoll event loop that is Swift's executor,
/// Futures and Tasks with asyncio's semantics, Transports, Protocols and Streams.
///
/// # Layout
///
/// One folder per concern, listed from the bottom up. How the pieces
/// fit together (the loop as executor, one iteration, cancellation, the selector, timers) is told
/// in `Docs.docc/Architecture.md`; what differs from Python in `Docs.docc/FromPython.md`.
///
/// * `Support/`: what every folder uses. The errors (`AsyncIOError`, `CancelledError`,
///   `SystemError`), locks and thread primitives (`PThreadLock`, `LockedValue`,
///   `PThreadCondition`, `ThreadSemaphore`, `ThreadLocal`), `UnsafeTransfer`, the isolation helper
///   `runIsolated`, and `loopForAwait()`.
///
/// * `Selector/`: readiness from the kernel. `Selector` owns the registration table
///   (`IORegistration`, one per watched descriptor, with generation tokens); a `SelectorBackend`
///   only talks to the kernel, one file per facility (`Selector+Epoll.swift`). `IOHandler` is what
///   a transport implements to be called on readiness.
///
/// * `Loop/`: the event loop. `EventLoop` is the actor users see (asyncio's `events.py`), a facade
///   over `LoopCore`: its state and inbox (`LoopCore.swift`), its executor roles
///   (`LoopCore+Executor.swift`), and `runOnce`, the one place callbacks and task steps run, under
///   its theory of operation (`EventLoop+Run.swift`). Beside them: `Handle`, `ReadyQueue`,
///   `TimerQueue`, `LoopClock`, `Wakeup`, the policy, `Runner` (asyncio's `run`), signal handlers
///   and `EventLoopThread`.
///
/// * `Futures/`: `Future`, `LoopTask`, `FutureResolver` and `ConcurrentFuture` for other threads,
///   `sleep`, the combinators (`gather`, `wait`, `waitFor`, `shield`, `asCompleted`), `Timeout`,
///   `LoopTaskGroup`, and `WaitPoint`, the reusable wait of readers and sockets.
///
/// * `Sync/`: asyncio's synchronization primitives: `Lock`, `Event`, `Condition`, `Semaphore`,
///   `BoundedSemaphore`, `Barrier`, and the queues (`Queue`, `PriorityQueue`, `LifoQueue`).
///
/// * `ThreadPool/`: `ThreadPoolExecutor` for blocking work, `runInExecutor` and `toThread`.
///
/// * `Sockets/`: `Socket` and the loop's socket coroutines (`sockRecv`, `sockSendAll`, …),
///   `addReader`/`addWriter`, `SocketAddress`, and name resolution (`getAddrInfo`).
///
/// * `Transports/`: asyncio's transports and protocols (`Transport`, `ConnectionProtocol`,
///   `DatagramProtocol`, …); `SocketTransport` and `DatagramSocketTransport` over the closing
///   rules they share (`SelectorTransport`), `WriteBuffer` and its water marks, `Server`, and the
///   loop's `createConnection`, `createServer` and `createDatagramEndpoint`.
///
/// * `Streams/`: `StreamReader`, `StreamWriter`, `StreamReaderProtocol`, `openConnection` and
///   `startServer`.
