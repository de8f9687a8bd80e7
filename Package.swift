// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    // Our nonisolated async functions run on the caller's executor (SE-0461), so code on a loop
    // never leaves the loop thread when it calls them.
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]

let package = Package(
    name: "swift-asyncio",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AsyncIO", targets: ["AsyncIO"]),
        .library(name: "AsyncIOTesting", targets: ["AsyncIOTesting"]),
        .library(name: "HTTP1Codec", targets: ["HTTP1Codec"]),
        .library(name: "RESPCodec", targets: ["RESPCodec"]),
        .library(name: "AsyncIOHTTP", targets: ["AsyncIOHTTP"]),
        .library(name: "AsyncIOTLS", targets: ["AsyncIOTLS"]),
        .library(name: "AsyncIORedis", targets: ["AsyncIORedis"]),
        .library(name: "WebSocketCodec", targets: ["WebSocketCodec"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .target(name: "CAsyncIOShims"),
        .target(
            name: "AsyncIO",
            dependencies: [
                "CAsyncIOShims",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(name: "AsyncIOTesting", dependencies: ["AsyncIO"], swiftSettings: strict),
        // The system's OpenSSL 3 (Debian: libssl-dev), for AsyncIOTLS only: the core needs no TLS library.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "AsyncIOTLS", dependencies: ["AsyncIO", "COpenSSL"], swiftSettings: strict),
        .target(
            name: "HTTP1Codec",
            dependencies: [.product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: strict
        ),
        .target(name: "RESPCodec", swiftSettings: strict),
        // zlib from the system (Debian: zlib1g-dev) for permessage-deflate.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "WebSocketCodec",
            dependencies: ["CZlib", .product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: strict
        ),
        .target(
            name: "AsyncIOHTTP",
            dependencies: [
                "AsyncIO",
                "AsyncIOTLS",
                "HTTP1Codec",
                "WebSocketCodec",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "AsyncIORedis",
            dependencies: [
                "AsyncIO", "AsyncIOTLS", "RESPCodec", .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "Hello",
            dependencies: ["AsyncIO"],
            path: "Examples/Hello",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "UndoingCallbacks",
            dependencies: ["AsyncIO"],
            path: "Examples/UndoingCallbacks",
            exclude: ["README.md"],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "BlockingEchoServer",
            dependencies: ["AsyncIO"],
            path: "Examples/BlockingEchoServer",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ThreadedUppercaseServer",
            dependencies: ["AsyncIO"],
            path: "Examples/ThreadedUppercaseServer",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "LoopUppercaseServer",
            dependencies: ["AsyncIO"],
            path: "Examples/LoopUppercaseServer",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ProtocolEchoServer",
            dependencies: ["AsyncIO"],
            path: "Examples/ProtocolEchoServer",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "StreamsEchoServer",
            dependencies: ["AsyncIO"],
            path: "Examples/StreamsEchoServer",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "TLSEchoServer",
            dependencies: ["AsyncIO", "AsyncIOTLS"],
            path: "Examples/TLSEchoServer",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "RunCommand",
            dependencies: ["AsyncIO"],
            path: "Examples/RunCommand",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "HangingTasks",
            dependencies: ["AsyncIO"],
            path: "Examples/HangingTasks",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "EchoBench",
            dependencies: ["AsyncIO"],
            path: "Examples/EchoBench",
            exclude: ["README.md"],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "HTTPHelloWorld",
            dependencies: ["AsyncIO", "AsyncIOHTTP", "AsyncIOTLS"],
            path: "Examples/HTTPHelloWorld",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "HTTPBench",
            dependencies: ["AsyncIO", "AsyncIOHTTP"],
            path: "Examples/HTTPBench",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "WebSocketEcho",
            dependencies: ["AsyncIO", "AsyncIOHTTP"],
            path: "Examples/WebSocketEcho",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "WebSocketBench",
            dependencies: ["AsyncIO", "AsyncIOHTTP", "WebSocketCodec"],
            path: "Examples/WebSocketBench",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "HTTPApp",
            dependencies: ["AsyncIO", "AsyncIOHTTP", .product(name: "HTTPTypes", package: "swift-http-types")],
            path: "Examples/HTTPApp",
            exclude: ["README.md", "public"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "HTTPGet",
            dependencies: ["AsyncIO", "AsyncIOHTTP", "AsyncIOTLS"],
            path: "Examples/HTTPGet",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "RedisSubscriber",
            dependencies: ["AsyncIO", "AsyncIORedis"],
            path: "Examples/RedisSubscriber",
            exclude: ["README.md"],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "RedisPublisher",
            dependencies: ["AsyncIO", "AsyncIORedis"],
            path: "Examples/RedisPublisher",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "RedisBench",
            dependencies: ["AsyncIO", "AsyncIORedis"],
            path: "Examples/RedisBench",
            exclude: ["README.md"],
            swiftSettings: strict
        ),

        .testTarget(name: "AsyncIOTests", dependencies: ["AsyncIO", "AsyncIOTesting"], swiftSettings: strict),
        .testTarget(
            name: "AsyncIOTLSTests",
            dependencies: ["AsyncIOTLS", "AsyncIO", "AsyncIOTesting"],
            exclude: ["Support/make_pki.py"],
            swiftSettings: strict
        ),
        .testTarget(name: "HTTP1CodecTests", dependencies: ["HTTP1Codec"], swiftSettings: strict),
        // Runs the example executables as processes; build them first (`swift build --build-tests`).
        .testTarget(name: "ExamplesTests", exclude: ["Scripts"], swiftSettings: strict),
        .testTarget(name: "RESPCodecTests", dependencies: ["RESPCodec"], swiftSettings: strict),
        .testTarget(
            name: "AsyncIORedisTests",
            dependencies: ["AsyncIORedis", "AsyncIO", "AsyncIOTLS"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WebSocketCodecTests",
            dependencies: ["WebSocketCodec", .product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "AsyncIOHTTPTests",
            dependencies: [
                "AsyncIOHTTP", "AsyncIO", "AsyncIOTesting", "AsyncIOTLS", "HTTP1Codec", "WebSocketCodec",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Scripts"],
            swiftSettings: strict
        ),
    ]
)
