// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "PlantRouter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "plantrouter", targets: ["plantrouter"]),
        .library(name: "Kafka", targets: ["Kafka"]),
        .library(name: "Policy", targets: ["Policy"]),
        .library(name: "Ledger", targets: ["Ledger"]),
        .library(name: "PlantSimulation", targets: ["PlantSimulation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // librdkafka from Debian's librdkafka-dev: rdkafka.h plus the mock cluster API.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Decides what happens to each plant event. Never imports Kafka.
        .target(
            name: "Policy",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // SQLite state of one instance: audit trail, correlation, idempotency, replay jobs.
        .target(
            name: "Ledger",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Deterministic, seedable plant traffic as RawEvents (demo, tests, benchmarks).
        .target(
            name: "PlantSimulation",
            dependencies: ["Policy"]
        ),
        .executableTarget(
            name: "plantrouter",
            dependencies: [
                "Kafka",
                "Policy",
                "Ledger",
                "PlantSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "plantrouter-bench",
            dependencies: [
                "CRdKafka",
                "Kafka",
                "Policy",
                "Ledger",
                "PlantSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/Sources/plantrouter-bench"
        ),
        .testTarget(
            name: "KafkaTests",
            dependencies: [
                "Kafka",
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "LedgerTests",
            dependencies: [
                "Ledger",
                // Only to tamper with files the way a newer release or a disk fault would.
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "PolicyTests",
            dependencies: [
                "Policy",
                "PlantSimulation",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
    ]
)
