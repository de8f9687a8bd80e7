// swift-tools-version:6.1
// libFuzzer targets for the sans-I/O codecs, a package of their own so the main build never
// links libFuzzer. Run them with `scripts/fuzz.sh SECONDS` (it builds with
// `--sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address` and coverage counters).
import PackageDescription

let package = Package(
    name: "swift-asyncio-fuzz",
    // `name:` fixes the library's identity: SwiftPM would otherwise name a path package after its
    // directory, which is whatever the clone happens to be called.
    dependencies: [.package(name: "swift-asyncio", path: "..")],
    targets: [
        .executableTarget(
            name: "HTTP1ParserFuzz",
            dependencies: [.product(name: "HTTP1Codec", package: "swift-asyncio")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "RESPParserFuzz",
            dependencies: [.product(name: "RESPCodec", package: "swift-asyncio")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "WebSocketParserFuzz",
            dependencies: [.product(name: "WebSocketCodec", package: "swift-asyncio")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
