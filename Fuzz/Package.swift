// swift-tools-version: 6.0
import Foundation
import PackageDescription

// libFuzzer targets for PlantRouter (see Docs/Fuzzing.md). A package of its own because these
// executables only link with `-sanitize=fuzzer` (their main calls libFuzzer's driver), which
// a plain `swift build` of the root package does not pass. Build with Fuzz/run.sh.
//
// The harnesses live in the root package (target FuzzHarness, Fuzz/Harness) so the regression
// tests replay a crash through the same code; these executables only expose them to libFuzzer.

// A path dependency is named after its folder, which differs between clones and worktrees.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let rootPackage = root.lastPathComponent

let package = Package(
    name: "PlantRouterFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: root.path)],
    targets: [
        // Declares LLVMFuzzerRunDriver; the library itself comes with `-sanitize=fuzzer`.
        .systemLibrary(name: "CLibFuzzer"),
    ] + ["envelope", "recorded", "topics"].map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: ["CLibFuzzer", .product(name: "FuzzHarness", package: rootPackage)]
        )
    }
)
