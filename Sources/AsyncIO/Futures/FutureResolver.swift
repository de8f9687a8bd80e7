/// Completes a loop's Future from any thread: the bridge for callback APIs that call back on
/// threads of their own ("undoing callbacks").
///
/// A `Future` is not Sendable, so a callback running on another thread cannot touch it; it can
/// hold this resolver, which hops to the loop (`callSoonThreadSafe`) and sets the Future there,
/// unless the Future was cancelled or completed meanwhile. Resolving twice keeps the first outcome.
///
/// ```swift
/// let future = loop.createFuture(of: Data.self)
/// let resolver = future.resolver
/// legacyDownload(url) { data, error in          // called on some other thread
///     resolver.resolve(error.map { .failure($0) } ?? .success(data!))
/// }
/// let data = try await future.value
/// ```
public struct FutureResolver<Value>: Sendable {
    let core: LoopCore
    // SAFETY: the Future is only dereferenced inside the callback below, which runs on the loop
    // thread that owns it.
    let future: UnsafeTransfer<Future<Value>>

    /// Completes the Future on its loop with `result`, unless it is already done.
    ///
    /// Safe from any thread. If the loop is closed, the result is dropped.
    public func resolve(_ result: sending Result<Value, any Error>) {
        // SAFETY: `result` is `sending`, so no one else holds it; it is moved to the loop thread.
        let transfer = UnsafeTransfer(result)
        let future = self.future
        core.callSoonThreadSafe {
            let target = future.value
            guard !target.isDone else { return }
            switch transfer.value {
            case .success(let value): target.complete(.succeeded(value))
            case .failure(let error): target.complete(.failed(error))
            }
        }
    }

    /// Resolves with the result of `body`, capturing what it throws.
    public func resolve(catching body: () throws -> sending Value) {
        do {
            resolve(.success(try body()))
        } catch {
            resolve(.failure(error))
        }
    }
}

extension Future {
    /// A Sendable handle that completes this Future from any thread. See `FutureResolver`.
    public var resolver: FutureResolver<Value> {
        FutureResolver(core: core, future: UnsafeTransfer(self))
    }
}
