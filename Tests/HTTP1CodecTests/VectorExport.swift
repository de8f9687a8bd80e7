import Foundation
import HTTP1Codec
import Testing

/// Keeps the vector tables usable outside Swift: the fuzzer's seed corpus and the h11 cross-check
/// (scripts/crosscheck_h11.py) read them from a directory given in `HTTP1_VECTOR_EXPORT`.
@Suite struct VectorExportTests {
    @Test func vectorNamesAreUniqueSoExportedFilesDoNotCollide() throws {
        let names = (validRequestVectors + invalidRequestVectors).map(\.name) + responseVectors.map(\.name)
        #expect(Set(names).count == names.count)

        guard let directory = ProcessInfo.processInfo.environment["HTTP1_VECTOR_EXPORT"] else { return }
        let root = URL(fileURLWithPath: directory)
        let corpus = root.appendingPathComponent("corpus")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        var json: [[String: String]] = []
        for (index, vector) in (validRequestVectors + invalidRequestVectors).enumerated() {
            json.append([
                "name": vector.name,
                "hex": vector.bytes.map { String(format: "%02x", $0) }.joined(),
                "error": vector.error.map { "\($0)" } ?? "",
                "status": vector.error.map { "\($0.status)" } ?? "",
                "limits": vector.limits == .default ? "default" : "custom",
            ])
            try Data(vector.bytes).write(to: corpus.appendingPathComponent(String(format: "request-%03d", index)))
        }
        for (index, vector) in responseVectors.enumerated() {
            try Data(vector.wire.utf8).write(to: corpus.appendingPathComponent(String(format: "response-%03d", index)))
        }
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: root.appendingPathComponent("request-vectors.json"))
    }
}
