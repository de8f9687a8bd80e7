import AsyncIOHTTP
import Foundation
import HTTP1Codec
import Testing

/// Every malformed request of HTTP1Codec's vector table, sent through a socket with a pipelined
/// `GET` behind it: the server answers the error's status, closes, and never answers the `GET`.
///
/// The vectors come from the codec's exported corpus (`Fuzz/corpus/http1/request-*`, written by
/// `VectorExportTests` from Tests/HTTP1CodecTests/RequestVectors.swift); which of them are
/// malformed, and with what status, is decided here by the parser with the server's limits.
@Suite(.serialized) struct MalformedRequestTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var status: Int
        var testDescription: String { name }
    }

    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/http1")

    /// The corpus's requests that the parser refuses before the stream ends.
    static func malformedVectors() -> [Vector] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []
        var vectors: [Vector] = []
        for name in names.sorted() where name.hasPrefix("request-") || name.hasPrefix("fuzz-found-request") {
            guard let data = FileManager.default.contents(atPath: corpus.appendingPathComponent(name).path) else {
                continue
            }
            let bytes = [UInt8](data)
            var parser = RequestParser()
            parser.feed(bytes)
            do {
                while try parser.next() != nil {}
            } catch {
                vectors.append(Vector(name: name, bytes: bytes, status: error.status))
            }
        }
        return vectors
    }

    @Test func theCorpusHasMalformedVectors() {
        #expect(Self.malformedVectors().count >= 40)
    }

    @Test func everyMalformedRequestIsAnsweredAndNothingAfterItIsParsed() async throws {
        let recorder = Recorder()
        let server = try await ServerFixture.start { makeTestHandler(recorder) }
        var failures: [String] = []
        for vector in Self.malformedVectors() {
            let client = try RawClient(port: server.port)
            try await client.send(vector.bytes + Array("GET /after HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            var received: [UInt8] = []
            while let chunk = try? await client.receiveSome(), !chunk.isEmpty { received += chunk }
            let text = String(decoding: received, as: UTF8.self)
            let statusLines = text.components(separatedBy: "\r\n").filter { $0.hasPrefix("HTTP/1.1 ") }
            if text.contains("404: Not Found") || statusLines.count > 2 {
                failures.append("\(vector.name): the pipelined GET was answered: \(statusLines)")
            } else if !(statusLines.last?.hasPrefix("HTTP/1.1 \(vector.status) ") ?? false) {
                failures.append("\(vector.name): expected \(vector.status), got \(statusLines)")
            }
        }
        await server.stop()
        #expect(failures == [])
    }
}
