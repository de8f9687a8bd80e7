import AsyncIO
import AsyncIOTesting
import Foundation
import Testing

/// A factory that records every task it makes and tags its name.
final class RecordingFactory: TaskFactory {
    var made: [String] = []

    func makeTask<Value>(
        on loop: isolated EventLoop,
        name: String?,
        eagerStart: Bool?,
        _ body: @escaping () async throws -> Value
    ) -> LoopTask<Value> {
        let task = LoopTask(on: loop, name: "made-\(name ?? "unnamed")", eagerStart: eagerStart ?? false, body)
        made.append("\(task.name) eager: \(eagerStart.map { "\($0)" } ?? "nil")")
        return task
    }
}

@Suite struct TaskFactoryTests {
    @Test func theEagerFactoryStartsTasksAtOnceUnlessTheCreatorSaysOtherwise() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            events.append("factory before: \(loop.taskFactory == nil ? "none" : "set")")
            loop.setTaskFactory(.eager)
            events.append("factory: \(loop.taskFactory is EagerTaskFactory)")
            let eager = loop.createTask {
                events.append("eager body runs")
                try await sleep(.zero)
                events.append("eager body resumes")
            }
            let lazy = loop.createTask(eagerStart: false) { events.append("lazy body runs") }
            events.append("after both createTask")
            try await eager.value
            try await lazy.value
            loop.setTaskFactory(nil)
            let plain = loop.createTask { events.append("default is lazy again") }
            events.append("after createTask with no factory")
            try await plain.value
            return events
        }
        #expect(
            events == [
                "factory before: none", "factory: true", "eager body runs", "after both createTask",
                "eager body resumes", "lazy body runs", "after createTask with no factory", "default is lazy again",
            ]
        )
    }

    @Test func everyTaskTheLoopCreatesGoesThroughTheFactory() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let factory = RecordingFactory()
            loop.setTaskFactory(factory)
            _ = try await loop.createTask(name: "direct") { 1 }.value
            _ = try await loop.createTask(name: "eager", eagerStart: true) { 1 }.value
            try await withLoopTaskGroup { group in
                try group.createTask(name: "child") {}
                try group.createTask(name: "eager child", eagerStart: true) {}
            }
            _ = try await gather([{ 1 }, { 2 }])
            _ = try await gather({ "a" }, { 1 })
            return factory.made
        }
        #expect(
            events == [
                "made-direct eager: nil", "made-eager eager: true", "made-child eager: nil",
                "made-eager child eager: true", "made-unnamed eager: nil", "made-unnamed eager: nil",
                "made-unnamed eager: nil", "made-unnamed eager: nil",
            ]
        )
    }

    @Test func aStreamsServersClientTasksGoThroughTheFactory() async throws {
        let events = try await EventLoopThread.run { loop in
            let factory = RecordingFactory()
            loop.setTaskFactory(factory)
            let served = loop.createFuture(of: String.self)
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                let line = try await reader.readLine()
                try? served.setResult("\(currentTask()!.name) read \(String(decoding: line, as: UTF8.self))")
                writer.close()
            }
            let port = try boundAddress(server).port!
            let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
            try writer.write(Array("hello\n".utf8))
            let seen = try await waitFor(served, timeout: .seconds(10))
            writer.close()
            server.close()
            try await server.waitClosed()
            return [seen] + factory.made.filter { !$0.contains("happy") }
        }
        #expect(events == ["made-unnamed read hello\n", "made-unnamed eager: nil"])
    }
}
