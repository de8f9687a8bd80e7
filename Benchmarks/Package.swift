// swift-tools-version:6.1
// Benchmarks live in a package of their own so that users and CI never build them
// (nor SwiftNIO, nor ordo-one/benchmark).
import Foundation
import PackageDescription

// SwiftPM names a package found by path after its directory, so the library's identity is
// whatever the clone's directory is called (CI clones into a directory of its own choosing).
let library = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent

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
                .product(name: "HTTP1Codec", package: library),
                .product(name: "RESPCodec", package: library),
            ],
            path: "Sources/CodecBench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
