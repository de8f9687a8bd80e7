/// Makes the tasks a loop creates: asyncio's task factory.
///
/// Install one with `EventLoop.setTaskFactory(_:)`. From then on every task the loop creates goes
/// through it: `createTask`, a `LoopTaskGroup`'s children, the tasks `gather` makes for closures,
/// a streams server's client tasks, `runCoroutineThreadSafe`'s task. A factory makes the task with
/// `LoopTask(on:name:eagerStart:_:)`, never with `createTask` (which would call the factory again),
/// and may wrap the body, name the task or choose how it starts.
///
/// ```swift
/// struct TimingFactory: TaskFactory {
///     func makeTask<Value>(
///         on loop: isolated EventLoop, name: String?, eagerStart: Bool?,
///         _ body: @escaping () async throws -> Value
///     ) -> LoopTask<Value> {
///         LoopTask(on: loop, name: name, eagerStart: eagerStart ?? false) {
///             let start = loop.time
///             defer { log("\(name ?? "task") took \(loop.time - start)") }
///             return try await body()
///         }
///     }
/// }
/// ```
///
/// Mirrors the factory of `loop.set_task_factory()`: a callable `(loop, coro, **kwargs)` there, a
/// type with one generic method here (a closure cannot be generic).
public protocol TaskFactory {
    /// Makes and starts the task that runs `body`.
    ///
    /// - Parameters:
    ///   - loop: the loop the task belongs to.
    ///   - name: the name its creator asked for (nil: the default `Task-N`).
    ///   - eagerStart: the start its creator asked for; nil when it left the choice to the factory.
    ///   - body: the task's work.
    func makeTask<Value>(
        on loop: isolated EventLoop,
        name: String?,
        eagerStart: Bool?,
        _ body: @escaping () async throws -> Value
    ) -> LoopTask<Value>
}

/// Starts every task eagerly unless its creator asks otherwise: asyncio's `eager_task_factory`.
///
/// A task's body runs at once, inside the call that creates it, up to its first suspension; a body
/// that finishes without suspending never goes through the loop's queue. This saves a trip
/// through the loop for work that often completes at once (a cache hit, data already buffered),
/// and changes the order in which tasks run: a creator sees its new task's first step done.
///
/// Mirrors `asyncio.eager_task_factory` (`create_eager_task_factory(Task)`).
public struct EagerTaskFactory: TaskFactory {
    public init() {}

    public func makeTask<Value>(
        on loop: isolated EventLoop,
        name: String?,
        eagerStart: Bool?,
        _ body: @escaping () async throws -> Value
    ) -> LoopTask<Value> {
        LoopTask(on: loop, name: name, eagerStart: eagerStart ?? true, body)
    }
}

extension TaskFactory where Self == EagerTaskFactory {
    /// The ready-made eager factory: `loop.setTaskFactory(.eager)`. Mirrors `asyncio.eager_task_factory`.
    public static var eager: EagerTaskFactory { EagerTaskFactory() }
}

extension EventLoop {
    /// Makes `factory` create every task of this loop from now on; nil restores the default (a
    /// task starts in the loop's next iteration unless created with `eagerStart: true`).
    ///
    /// Mirrors `loop.set_task_factory()`.
    public func setTaskFactory(_ factory: (any TaskFactory)?) {
        core.taskFactory = factory
    }

    /// The factory that makes this loop's tasks, or nil for the default. Mirrors `loop.get_task_factory()`.
    public var taskFactory: (any TaskFactory)? { core.taskFactory }
}
