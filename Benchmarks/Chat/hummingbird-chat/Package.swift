// swift-tools-version:6.1
// The chat of Showcase/ written with Hummingbird and hummingbird-websocket: the peer of
// Benchmarks/Scripts/chat.py. A package of its own, so that the other benchmarks never build
// Hummingbird's WebSocket package.
import PackageDescription

let package = Package(
    name: "hummingbird-chat",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
    ],
    targets: [
        .executableTarget(
            name: "hummingbird-chat",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
