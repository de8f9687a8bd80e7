import AsyncIO
import Testing

/// An error with a name, so that stories can say which child failed.
struct Boom: Error, Equatable, CustomStringConvertible {
    var name: String
    init(_ name: String) { self.name = name }
    var description: String { "Boom(\(name))" }
}

/// A short description of an outcome, for event lists.
func describe<Value>(_ result: Result<Value, any Error>) -> String {
    switch result {
    case .success(let value): "ok(\(value))"
    case .failure(let error): "error(\(error))"
    }
}

extension EventLoop {
    /// The loop's time as the story writes it: "t=1.5s".
    nonisolated var now: String { "t=\(time)" }
}

/// How the tasks of a test start. asyncio 3.14 runs its whole task-group suite twice, the second
/// time on a loop whose task factory is `eager_task_factory` (`TestEagerTaskTaskGroup`).
enum TaskStart: String, CaseIterable, CustomTestStringConvertible {
    case lazy, eager

    var testDescription: String { rawValue }

    /// Gives `loop` the task factory this case stands for.
    func install(on loop: isolated EventLoop) {
        switch self {
        case .lazy: loop.setTaskFactory(nil)
        case .eager: loop.setTaskFactory(.eager)
        }
    }
}
