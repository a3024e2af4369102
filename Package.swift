// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "cairn",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cairn", targets: ["cairn"]),
        .library(name: "CairnStore", targets: ["CairnStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Already in the graph through Hummingbird; named to end long-lived responses on shutdown.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The agent surface: the official Model Context Protocol SDK.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        // The shared backend (DESIGN.md §3): PostgreSQL through its pooled, async client.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // TLS for `cairn serve --tls-cert/--tls-key` (already in the graph through PostgresNIO).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Store layer (DESIGN.md §2–3).
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        .target(
            name: "CairnCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "CairnStore",
            dependencies: ["CairnCore", "CPCRE2", .product(name: "Metrics", package: "swift-metrics")],
            swiftSettings: strict
        ),
        .target(
            name: "CairnSQLite",
            dependencies: ["CairnStore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .target(
            name: "CairnPostgres",
            dependencies: [
                "CairnStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Compute (DESIGN.md §6): pure geo-math on coordinates; depends on nothing of the server.
        // Coordinate systems are PROJ's (Debian's libproj, linked as a system library).
        .systemLibrary(
            name: "CPROJ",
            pkgConfig: "proj",
            providers: [.apt(["libproj-dev"])]
        ),
        .target(
            name: "CairnCompute",
            dependencies: ["CPROJ"],
            swiftSettings: strict
        ),
        // Solve (DESIGN.md §6): optimization dispatch on local solvers; GLPK and CBC (COIN-OR's
        // branch-and-cut, through its C API, in a worker process of the same binary) linked as
        // system libraries.
        .systemLibrary(
            name: "CGLPK",
            providers: [.apt(["libglpk-dev"])]
        ),
        .systemLibrary(
            name: "CCBC",
            providers: [.apt(["coinor-libcbc-dev"])]
        ),
        .target(
            name: "CairnSolve",
            dependencies: ["CGLPK", "CCBC", "CairnCompute"],
            swiftSettings: strict
        ),
        // The Ontology (DESIGN.md §4, "validate"): typed entities, links and rules, checked on every write.
        .target(
            name: "CairnOntology",
            dependencies: ["CairnStore", "CairnCompute", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // Governance layer (DESIGN.md §4): identity, authorization, audit, the Gateway.
        .target(
            name: "CairnGovernance",
            dependencies: [
                "CairnStore",
                "CairnOntology",
                "CairnCompute",
                "CairnSolve",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Engine layer (DESIGN.md §2, §5): runs (agent sessions now; workflows, automations and
        // syncs later) with their bounds, per-call authorization, call records, replay, rollback
        // and recovery. Surfaces start and drive runs only through it.
        .target(
            name: "CairnEngine",
            dependencies: [
                "CairnGovernance", "CairnStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Surfaces.
        .target(
            name: "CairnHTTP",
            dependencies: [
                "CairnOntology", "CairnCompute",
                "CairnGovernance", "CairnEngine", "CairnMCP",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The agent surface (DESIGN.md §5): exactly the eight primitives over MCP, each session a run.
        .target(
            name: "CairnMCP",
            dependencies: [
                "CairnEngine", "CairnGovernance", "CairnStore", .product(name: "MCP", package: "swift-sdk"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "CairnCLI",
            dependencies: [
                "CairnStore", "CairnSQLite", "CairnPostgres", "CairnGovernance", "CairnEngine", "CairnHTTP", "CairnOntology", "CairnMCP",
                "CairnSolve", "CairnCompute",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "cairn", dependencies: ["CairnCLI"], swiftSettings: strict),
        // Crash-safety helper: commits in a loop until killed (used by the tests).
        .executableTarget(
            name: "CairnTorture",
            dependencies: ["CairnStore", "CairnSQLite", "CairnPostgres"],
            swiftSettings: strict
        ),
        // Benchmarks (release builds only; see BENCHMARKS.md).
        .executableTarget(
            name: "CairnBench",
            dependencies: [
                "CairnStore", "CairnSQLite", "CairnPostgres", "CairnGovernance", "CairnEngine", "CairnOntology", "CairnCompute",
                "CairnSolve",
            ],
            exclude: ["Support/route_peer.py", "Support/mip_peer.py", "Support/console_render.py"],
            swiftSettings: strict
        ),
        // Test support shared by the test targets: the Python reference runner, the backend of the pass.
        .target(
            name: "CairnTestSupport",
            dependencies: ["CairnStore", "CairnSQLite", "CairnPostgres", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/CairnTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "CairnStoreTests",
            dependencies: [
                "CairnStore", "CairnSQLite", "CairnPostgres", "CairnTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CairnComputeTests",
            dependencies: ["CairnCompute", "CairnTestSupport"],
            exclude: ["Support/python"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CairnSolveTests",
            dependencies: ["CairnSolve", "CairnCompute", "CairnTestSupport"],
            exclude: ["Support/python"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CairnEngineTests",
            dependencies: ["CairnEngine", "CairnGovernance", "CairnStore", "CairnTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CairnOntologyTests",
            dependencies: ["CairnOntology", "CairnStore", "CairnSQLite"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CairnGovernanceTests",
            dependencies: [
                "CairnGovernance", "CairnStore", "CairnSQLite", "CairnPostgres", "CairnTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CairnHTTPTests",
            dependencies: [
                "CairnHTTP", "CairnEngine", "CairnGovernance", "CairnStore", "CairnTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CairnCLITests",
            dependencies: [
                "CairnCLI", "CairnGovernance", "CairnEngine", "CairnStore", "CairnSQLite", "CairnPostgres", "cairn",
                "CairnTorture",
                "CairnTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Support/python", "Support/ontology"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
