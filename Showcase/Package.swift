// swift-tools-version:6.1
// The chat service (issue 16) lives in a package of its own, like Benchmarks/, so that users of
// the library never build it nor its dependencies (argument parsing, metrics, Prometheus).
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]

let package = Package(
    name: "swift-asyncio-showcase",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "swift-asyncio", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // `Chat`: the web page, the line protocol, the brokers. Everything but the command line.
        .target(
            name: "ChatCore",
            dependencies: [
                .product(name: "AsyncIO", package: "swift-asyncio"),
                .product(name: "AsyncIOHTTP", package: "swift-asyncio"),
                .product(name: "WebSocketCodec", package: "swift-asyncio"),
                .product(name: "AsyncIORedis", package: "swift-asyncio"),
                .product(name: "RESPCodec", package: "swift-asyncio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "Chat",
            dependencies: [
                "ChatCore",
                .product(name: "AsyncIO", package: "swift-asyncio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Unit tests of the pure parts and the hub; the end-to-end clients (pytest) are in Tests/e2e.
        .testTarget(
            name: "ChatTests",
            dependencies: ["ChatCore"],
            swiftSettings: strict
        ),
    ]
)
