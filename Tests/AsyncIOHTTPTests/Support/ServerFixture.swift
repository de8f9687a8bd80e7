import AsyncIO
import AsyncIOHTTP
import Foundation
import Logging

/// An HTTP server on a loop thread of its own, listening on 127.0.0.1 port 0.
final class ServerFixture: @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): `server` is set once on the loop thread before `start`
    // returns and only touched on the loop thread afterwards (inside `thread.run`); `port` is
    // immutable after init.
    let thread: EventLoopThread
    private nonisolated(unsafe) var server: HTTPServer?
    private nonisolated(unsafe) var runner: AppRunner?
    private(set) var port = 0

    private init(thread: EventLoopThread) {
        self.thread = thread
    }

    /// A server whose requests `makeHandler()` answers (the handler is made on the loop).
    static func start(
        configuration: HTTPServerConfiguration = .init(),
        accessLog: AccessLogger? = nil,
        makeHandler: @escaping @Sendable () -> Handler
    ) async throws -> ServerFixture {
        let fixture = ServerFixture(thread: try EventLoopThread())
        fixture.port = try await fixture.thread.run { loop in
            let server = try await HTTPServer.start(
                host: "127.0.0.1",
                configuration: configuration,
                logger: Logger(label: "test.http", factory: { _ in SwiftLogNoOpLogHandler() }),
                accessLog: accessLog,
                loop: loop,
                handler: makeHandler()
            )
            fixture.server = server
            return server.port
        }
        return fixture
    }

    /// A server whose connections `makeProtocol()` makes (the talk's subclasses).
    static func start(makeProtocol: @escaping @Sendable () -> ServerHTTPProtocol) async throws -> ServerFixture {
        let fixture = ServerFixture(thread: try EventLoopThread())
        fixture.port = try await fixture.thread.run { loop in
            let server = try await HTTPServer.start(host: "127.0.0.1", loop: loop, protocolFactory: makeProtocol)
            fixture.server = server
            return server.port
        }
        return fixture
    }

    /// An application made by `makeApplication()` on the loop, started with its hooks.
    static func start(makeApplication: @escaping @Sendable () throws -> Application) async throws -> ServerFixture {
        let fixture = ServerFixture(thread: try EventLoopThread())
        fixture.port = try await fixture.thread.run { loop in
            let app = try makeApplication()
            app.logger = Logger(label: "test.http", factory: { _ in SwiftLogNoOpLogHandler() })
            let runner = try await app.start(host: "127.0.0.1", port: 0, loop: loop)
            fixture.runner = runner
            fixture.server = runner.server
            return runner.port
        }
        return fixture
    }

    /// The application's graceful stop (shutdown and cleanup hooks), awaited.
    func cleanup(timeout: Duration = .seconds(5)) async throws {
        try await thread.run { _ in await self.runner?.cleanup(timeout: timeout) }
    }

    /// The number of open connections, read on the loop.
    func connectionCount() async throws -> Int {
        try await thread.run { _ in self.server?.connectionCount ?? 0 }
    }

    /// A graceful shutdown with `timeout`, awaited.
    func shutdown(timeout: Duration = .seconds(5)) async throws {
        try await thread.run { _ in await self.server?.shutdown(timeout: timeout) }
    }

    /// Runs `body` with the server, then stops it, whether `body` threw or not.
    func serve(_ body: (ServerFixture) async throws -> Void) async throws {
        do {
            try await body(self)
        } catch {
            await stop()
            throw error
        }
        await stop()
    }

    /// Shuts the server down (gracefully, briefly) and stops the loop thread.
    func stop() async {
        _ = try? await thread.run { _ in
            await self.runner?.cleanup(timeout: .milliseconds(200))
            await self.server?.shutdown(timeout: .milliseconds(200))
        }
        thread.shutdown()
    }
}
