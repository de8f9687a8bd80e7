import Foundation
import Glibc
import Testing

/// The WebSocket examples, against Python's `websockets` and headless Chromium driven by Selenium
/// (scripts/test.sh installs them).
@Suite(.serialized) struct WebSocketSmokeTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts")

    @Test func webSocketBenchEchoesUpTo16MiBAndStopsOnSIGTERM() async throws {
        let server = try ExampleProcess("WebSocketBench", arguments: ["--port", "0"])
        let port = try #require(try await server.port())
        let check = try ExampleProcess(
            "/usr/bin/env",
            arguments: ["python3", Self.scripts.appendingPathComponent("ws_bench_check.py").path, String(port)]
        )
        #expect(try await check.waitForExit(seconds: 60) == .exited(0))
        #expect(check.printed == "ECHO hello True\n")
        server.send(SIGTERM)
        #expect(try await server.waitForExit() == .exited(0))
    }

    @Test func webSocketEchoPageWorksInHeadlessChromium() async throws {
        let server = try ExampleProcess("WebSocketEcho", arguments: ["--port", "0"])
        let port = try #require(try await server.port())
        let browser = try ExampleProcess(
            "/usr/bin/env",
            arguments: ["python3", Self.scripts.appendingPathComponent("ws_browser_check.py").path, String(port)]
        )
        #expect(try await browser.waitForExit(seconds: 90) == .exited(0))
        #expect(browser.printed == "BROWSER echoed ticking\n")
        server.send(SIGTERM)
        #expect(try await server.waitForExit() == .exited(0))
    }
}
