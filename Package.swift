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
        // For the libFuzzer package in Fuzz/ only.
        .library(name: "FuzzHarness", targets: ["FuzzHarness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Already in the graph through Hummingbird: the edge demo's gateway posts with it.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Already in the graph through Hummingbird's packages: SHA-256 for admin token digests.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
    ],
    targets: [
        // librdkafka from Debian's librdkafka-dev: rdkafka.h plus the mock cluster API.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // The record header type `Kafka` and `Policy` share (neither imports the other).
        .target(name: "RecordHeaders"),
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                "RecordHeaders",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Decides what happens to each plant event. Never imports Kafka.
        .target(
            name: "Policy",
            dependencies: [
                "RecordHeaders",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // SQLite state of one instance: audit trail, correlation, idempotency, replay jobs.
        .target(
            name: "Ledger",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                // The C API, for the audit indexer's per-entry inserts (DirectWrite.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // Deterministic, seedable plant traffic as RawEvents (demo, tests, benchmarks).
        .target(
            name: "PlantSimulation",
            dependencies: ["Policy"]
        ),
        // What the libFuzzer targets (Fuzz/Package.swift) do with their input bytes; here so the
        // regression tests replay each crash through the same code without the fuzzer.
        .target(
            name: "FuzzHarness",
            dependencies: ["Policy", "PlantSimulation"],
            path: "Fuzz/Harness"
        ),
        // Lanes, output envelopes, dead letters, correlation and audit: policy decisions
        // turned into governed Kafka traffic.
        .target(
            name: "Routing",
            dependencies: [
                "Kafka",
                "Policy",
                "Ledger",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Dead-letter inspection and replay jobs (reroute through the current policy, or redrive).
        .target(
            name: "Replay",
            dependencies: [
                "Kafka",
                "Policy",
                "Ledger",
                "Routing",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Bearer tokens by digest, compared in constant time: one implementation for the admin
        // API and the edge's gateways.
        .target(
            name: "Credentials",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // The limits both HTTP servers (admin API, edge ingest) keep: idle timeout, header
        // sizes, a connection ceiling.
        .target(
            name: "HTTPServing",
            dependencies: [
                "Policy",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The operator HTTP API served inside `plantrouter run`.
        .target(
            name: "Admin",
            dependencies: [
                "Credentials",
                "HTTPServing",
                "Kafka",
                "Policy",
                "Ledger",
                "Routing",
                "Replay",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("openapi.yaml")]
        ),
        // Store-and-forward at the plant edge (`plantrouter edge`): CloudEvents over HTTP into a
        // durable SQLite spool, checked against Topics/, forwarded with the idempotent producer.
        .target(
            name: "Edge",
            dependencies: [
                "Credentials",
                "HTTPServing",
                "Kafka",
                "Policy",
                "Routing",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "plantrouter",
            dependencies: [
                "Kafka",
                "Routing",
                "Replay",
                "Admin",
                "Edge",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "Policy",
                "Ledger",
                "PlantSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
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
                "Routing",
                "Edge",
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
        // Deploy/: alert rules and dashboards reference only metrics the router exports.
        .testTarget(
            name: "DeployTests",
            dependencies: ["Routing"]
        ),
        // Child processes for the suites that run built programs (Foundation's `Process` can
        // crash the test process on Linux: Tests/TestProcesses/ChildProcess.swift says why).
        .target(
            name: "TestProcesses",
            path: "Tests/TestProcesses"
        ),
        // End to end on EmbeddedCluster: the router in process, and the built `plantrouter`
        // binary as a child process for the crash test (build it first: `swift build`).
        .testTarget(
            name: "RoutingTests",
            dependencies: [
                "TestProcesses",
                "Routing",
                "Kafka",
                "Policy",
                "PlantSimulation",
                "Ledger",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                // Only to hold the ledger's write lock the way another process would.
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The built `plantrouter` binary as a child process against an embedded cluster:
        // every `--json` output parses line by line, Ctrl-C on a replay (build it first:
        // `swift build --build-tests` builds it).
        .testTarget(
            name: "CommandLineTests",
            dependencies: ["TestProcesses", "Kafka", "Policy", "Ledger", "Routing"]
        ),
        // On tansu, a real Kafka-protocol broker that writes transaction markers: the built
        // `plantrouter` binary killed and scaled as child processes, exactly-once checked by a
        // Python reader. Skipped unless Tests/broker/run.sh sets PLANTROUTER_TANSU and
        // PLANTROUTER_BROKER_PYTHON.
        .testTarget(
            name: "BrokerIntegrationTests",
            dependencies: ["TestProcesses"]
        ),
        .testTarget(
            name: "ReplayTests",
            dependencies: ["Replay", "Routing", "Kafka", "Policy", "Ledger"]
        ),
        .testTarget(
            name: "AdminTests",
            dependencies: [
                "Admin",
                "HTTPServing",
                "Replay",
                "Routing",
                "Kafka",
                "Policy",
                "Ledger",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `plantrouter edge` end to end: real HTTP on loopback into the spool, forwarding to the
        // embedded cluster with every broker down and back up, quotas and shedding.
        .testTarget(
            name: "EdgeTests",
            dependencies: [
                "TestProcesses",
                "Edge",
                "Kafka",
                "Policy",
                "PlantSimulation",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "PolicyTests",
            dependencies: [
                "Policy",
                "PlantSimulation",
                "FuzzHarness",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
    ]
)
