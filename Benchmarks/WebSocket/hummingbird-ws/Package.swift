// swift-tools-version:6.1
// Hummingbird's WebSocket echo server: the peer of Scripts/ws.py. A package of its own, so that
// the other benchmarks never build Hummingbird.
import PackageDescription

let package = Package(
    name: "hummingbird-ws",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
    ],
    targets: [
        .executableTarget(
            name: "hummingbird-ws",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ]
        )
    ]
)
