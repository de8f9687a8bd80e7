// swift-tools-version:6.1
// Benchmarks live in a package of their own so that users and CI never build them
// (nor SwiftNIO, nor ordo-one/benchmark).
import PackageDescription

let package = Package(
    name: "swift-asyncio-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
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
    ]
)
