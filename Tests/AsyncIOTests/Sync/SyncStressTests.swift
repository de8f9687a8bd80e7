import AsyncIO
import Testing

/// Many tasks, random hold times and random cancellations: the invariants must hold whatever
/// interleaving a seed produces, and nothing may hang (a lost wake-up would).
@Suite struct SyncStressTests {
    struct Report: Sendable, Equatable {
        var maxHolders = 0
        var finished = 0
        var cancelled = 0
        var value = 0
        var waiting = 0
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func semaphoreNeverOverAdmitsAndNeverStrandsUnderRandomCancellation(seed: UInt64) async throws {
        let report = try await runStory { loop in
            var random = SeededGenerator(seed: seed)
            let semaphore = try Semaphore(value: 3)
            var report = Report()
            var holders = 0
            var tasks: [LoopTask<Void>] = []
            for _ in 0..<60 {
                let hold = Int.random(in: 0...20, using: &random)
                tasks.append(
                    loop.createTask {
                        try await semaphore.withPermit {
                            holders += 1
                            report.maxHolders = max(report.maxHolders, holders)
                            defer { holders -= 1 }
                            try await sleep(.milliseconds(hold))
                        }
                    }
                )
                if Bool.random(using: &random) { try await sleep(.milliseconds(Int.random(in: 0...5, using: &random))) }
                if Int.random(in: 0..<4, using: &random) == 0 {
                    tasks[Int.random(in: 0..<tasks.count, using: &random)].cancel()
                }
            }
            for task in tasks {
                if try await outcome(of: task) == "finished" { report.finished += 1 } else { report.cancelled += 1 }
            }
            report.value = semaphore.value
            report.waiting = semaphore.statistics.tasksWaiting
            return report
        }
        #expect(report.maxHolders == 3)
        #expect(report.finished + report.cancelled == 60)
        #expect(report.cancelled > 0)
        #expect(report.value == 3)
        #expect(report.waiting == 0)
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func lockStaysExclusiveAndFreeUnderRandomCancellation(seed: UInt64) async throws {
        let report = try await runStory { loop in
            var random = SeededGenerator(seed: seed)
            let lock = Lock()
            var report = Report()
            var holders = 0
            var tasks: [LoopTask<Void>] = []
            for _ in 0..<60 {
                let hold = Int.random(in: 0...10, using: &random)
                tasks.append(
                    loop.createTask {
                        try await lock.withLock {
                            holders += 1
                            report.maxHolders = max(report.maxHolders, holders)
                            defer { holders -= 1 }
                            try await sleep(.milliseconds(hold))
                        }
                    }
                )
                if Bool.random(using: &random) { try await sleep(.milliseconds(Int.random(in: 0...5, using: &random))) }
                if Int.random(in: 0..<3, using: &random) == 0 {
                    tasks[Int.random(in: 0..<tasks.count, using: &random)].cancel()
                }
            }
            for task in tasks {
                if try await outcome(of: task) == "finished" { report.finished += 1 } else { report.cancelled += 1 }
            }
            report.value = lock.isLocked ? 1 : 0
            report.waiting = lock.statistics.tasksWaiting
            return report
        }
        #expect(report.maxHolders == 1)
        #expect(report.finished + report.cancelled == 60)
        #expect(report.cancelled > 0)
        #expect(report.value == 0)
        #expect(report.waiting == 0)
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func queueNeitherLosesNorDuplicatesItemsUnderRandomCancellation(seed: UInt64) async throws {
        let (put, got, left) = try await runStory { loop in
            var random = SeededGenerator(seed: seed)
            let queue = Queue<Int>(maxsize: 4)
            var put: [Int] = []
            var got: [Int] = []
            var producers: [LoopTask<Void>] = []
            var consumers: [LoopTask<Void>] = []
            for producer in 0..<4 {
                let pauses = (0..<30).map { _ in Int.random(in: 0...3, using: &random) }
                producers.append(
                    loop.createTask {
                        for (index, pause) in pauses.enumerated() {
                            let item = producer * 1000 + index
                            try await queue.put(item)
                            put.append(item)
                            try await sleep(.milliseconds(pause))
                        }
                    }
                )
            }
            func addConsumer(pause: Int, on loop: isolated EventLoop) {
                consumers.append(
                    loop.createTask {
                        while true {
                            got.append(try await queue.get())
                            try await sleep(.milliseconds(pause))
                        }
                    }
                )
            }
            for _ in 0..<3 { addConsumer(pause: Int.random(in: 0...4, using: &random), on: loop) }
            for _ in 0..<40 {
                try await sleep(.milliseconds(Int.random(in: 0...4, using: &random)))
                switch Int.random(in: 0..<6, using: &random) {
                case 0: consumers[Int.random(in: 0..<consumers.count, using: &random)].cancel()
                case 1: producers[Int.random(in: 0..<producers.count, using: &random)].cancel()
                case 2: addConsumer(pause: Int.random(in: 0...4, using: &random), on: loop)
                default: break
                }
            }
            for task in producers { _ = try await outcome(of: task) }
            try await settle()
            for task in consumers { task.cancel() }
            for task in consumers { _ = try await outcome(of: task) }
            var left: [Int] = []
            while let item = try? queue.getNowait() { left.append(item) }
            return (put, got, left)
        }
        #expect(!put.isEmpty)
        #expect((got + left).sorted() == put.sorted())
    }
}
