// swift-tools-version:6.1
// Benchmarks live in a package of their own so that users and CI never build them
// (nor SwiftNIO, nor ordo-one/benchmark).
import PackageDescription

let package = Package(
    name: "swift-asyncio-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "swift-asyncio", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", exact: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
    ],
    targets: [
        // `codec-bench {input}`: the candidate program of ../shared/bench/codec (see its README).
        .executableTarget(
            name: "codec-bench",
            dependencies: [
                .product(name: "HTTP1Codec", package: "swift-asyncio"),
                .product(name: "RESPCodec", package: "swift-asyncio"),
            ],
            path: "Sources/CodecBench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // `swift package benchmark`: ordo-one benchmarks of the loop core, ours beside SwiftNIO's.
        .executableTarget(
            name: "LoopBenchmarks",
            dependencies: [
                "LoopBenchSupport",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/LoopBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // `loop-compare`: each pair back to back, 5 rounds, medians and ratios as one markdown table.
        .executableTarget(
            name: "loop-compare",
            dependencies: ["LoopBenchSupport"],
            path: "Sources/LoopCompare",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // `nio-echo-server PORT [--tls CERT KEY]`: the SwiftNIO peer of the echo benchmark
        // (Scripts/echo.py), over NIOSSL with --tls.
        .executableTarget(
            name: "nio-echo-server",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Sources/NIOEchoServer",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // `http-client-bench --client ours|ahc|ahc-futures --url URL`: one HTTP client under load
        // (Scripts/http-client.py runs it against nginx, beside aiohttp).
        .executableTarget(
            name: "http-client-bench",
            dependencies: [
                .product(name: "AsyncIO", package: "swift-asyncio"),
                .product(name: "AsyncIOHTTP", package: "swift-asyncio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/HTTPClientBench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // `nio-http-server PORT`: the raw SwiftNIO HTTP/1 peer of Scripts/http-server.py.
        .executableTarget(
            name: "nio-http-server",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/NIOHTTPServer",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // `hummingbird-server PORT`: the Hummingbird 2 peer of Scripts/http-server.py.
        .executableTarget(
            name: "hummingbird-server",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Sources/HummingbirdServer",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // `spawn-bench --runner ours|subprocess --count N --parallel P`: spawn + wait rate of
        // /bin/true children, ours beside swift-subprocess (Scripts/spawn.py adds asyncio's).
        .executableTarget(
            name: "spawn-bench",
            dependencies: [
                .product(name: "AsyncIO", package: "swift-asyncio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Sources/SpawnBench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Thread pinning and malloc statistics (need _GNU_SOURCE).
        .target(name: "CLoopBenchShims", path: "Sources/CLoopBenchShims"),
        // The measured workloads, shared by both runners so they measure the same code.
        .target(
            name: "LoopBenchSupport",
            dependencies: [
                .product(name: "AsyncIO", package: "swift-asyncio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                "CLoopBenchShims",
            ],
            path: "Sources/LoopBenchSupport",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
