// swift-tools-version:6.2
import PackageDescription

/// Under CI (`CI=true`, as `.ci/run` sets it) a warning in our own targets is an error, by the
/// compiler's own `-warnings-as-errors`; the dependencies' warnings stay theirs. Elsewhere a
/// warning stays a warning, so a newer compiler's new warnings never stop a user's build.
let warningsAreErrors = Context.environment["CI"] == "true"

let strict: [SwiftSetting] =
    [.swiftLanguageMode(.v6)] + (warningsAreErrors ? [.treatAllWarnings(as: .error)] : [])
let strictC: [CSetting] = warningsAreErrors ? [.treatAllWarnings(as: .error)] : []

// Linux only: the TFTP engine is built on epoll, eventfd, recvmmsg/sendmmsg with UDP GSO,
// preadv2 and openat2 (Sources/CTFTPShims), so no other platform is declared.
let package = Package(
    name: "netboot-tftp",
    products: [
        .library(name: "TFTPCore", targets: ["TFTPCore"]),
        .executable(name: "tftpd", targets: ["tftpd"]),
        .executable(name: "tftp", targets: ["tftp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .target(name: "CTFTPShims", cSettings: strictC),
        .target(
            name: "TFTPCore",
            dependencies: [
                "CTFTPShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // TLS for the HTTPS listener, apart from TFTPCore so that the library, the client and
        // the fuzz targets do not link BoringSSL.
        .target(
            name: "TFTPHTTPS",
            dependencies: [
                "TFTPCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The machines file (`--machines`), YAML or JSON: apart from TFTPCore, which has no
        // Foundation.
        .target(
            name: "TFTPMachines",
            dependencies: [
                "TFTPCore",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The origin behind the root (`--origin`): AsyncHTTPClient and SHA-256, apart from
        // TFTPCore for the same reason as TLS.
        .target(
            name: "TFTPOrigin",
            dependencies: [
                "TFTPCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "tftpd",
            dependencies: [
                "TFTPCore",
                "TFTPHTTPS",
                "TFTPMachines",
                "TFTPOrigin",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "tftp",
            dependencies: [
                "TFTPCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "tftp-microbench",
            dependencies: [
                "TFTPCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/Micro",
            swiftSettings: strict
        ),
        .testTarget(
            name: "TFTPCoreTests",
            dependencies: [
                "TFTPCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TFTPHTTPSTests",
            dependencies: [
                "TFTPHTTPS",
                "TFTPCore",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TFTPMachinesTests",
            dependencies: ["TFTPMachines", "TFTPCore"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TFTPOriginTests",
            dependencies: ["TFTPOrigin", "TFTPCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TFTPDaemonTests",
            dependencies: [
                "tftpd",
                "TFTPCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TFTPIntegrationTests",
            dependencies: [
                "TFTPCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
