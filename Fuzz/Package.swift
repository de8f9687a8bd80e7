// swift-tools-version:6.1
// libFuzzer targets for the sans-I/O codecs, a package of their own so the main build never
// links libFuzzer. Run them with `scripts/fuzz.sh SECONDS` (it builds with
// `--sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address` and coverage counters).
import Foundation
import PackageDescription

// SwiftPM names a package found by path after its directory, so the library's identity is
// whatever the clone's directory is called (CI clones into a directory of its own choosing).
let library = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent

let package = Package(
    name: "swift-asyncio-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "HTTP1ParserFuzz",
            dependencies: [.product(name: "HTTP1Codec", package: library)],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "RESPParserFuzz",
            dependencies: [.product(name: "RESPCodec", package: library)],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
