import Foundation

/// Programs this package builds, found the same way by every suite that runs them.
public enum BuiltPrograms {
    /// `PLANTROUTER_BINARY`, else `plantrouter` beside the test bundle (both live in
    /// `.build/<triple>/debug`), else `.build/debug/plantrouter` in the package.
    public static let plantrouter: URL? = {
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["PLANTROUTER_BINARY"] { candidates.append(URL(fileURLWithPath: path)) }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("plantrouter"))
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent("plantrouter"))
        }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(package.appendingPathComponent(".build/debug/plantrouter"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()
}
