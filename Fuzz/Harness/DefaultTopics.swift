import Foundation
import Policy

/// The Topics/ folder the harnesses fuzz against: `PLANTROUTER_FUZZ_TOPICS` when set, else the
/// repository's own Topics/ (found from this file's path, so it works from any directory).
public enum DefaultTopics {
    public static let url: URL = {
        if let path = ProcessInfo.processInfo.environment["PLANTROUTER_FUZZ_TOPICS"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Topics")
    }()

    /// The policy loaded once per process; a harness cannot run without it.
    public static let policy: LoadedPolicy = {
        do { return try TopicsDirectory.load(at: url) } catch { fatalError("the fuzz Topics/ at \(url.path) does not load:\n\(error)") }
    }()

    /// "Now" for the engine's clock-skew guard: fixed, so an input decides the same way on
    /// every run (seed events start at 2026-03-01T08:00:00Z).
    public static let nowMs: Int64 = 1_772_352_000_000 + 3_600_000
    public static let clock: WallClock = { nowMs }
}
