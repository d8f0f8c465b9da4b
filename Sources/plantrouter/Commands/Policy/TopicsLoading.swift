import ArgumentParser
import Foundation
import Policy

/// Loads a Topics directory (or policy file), printing diagnostics like a compiler on failure.
func loadTopicsOrExit(_ path: String) throws -> LoadedPolicy {
    do {
        return try TopicsDirectory.load(at: URL(fileURLWithPath: path))
    } catch {
        var stderr = StandardError()
        print(error.description, to: &stderr)
        print("\(error.diagnostics.count) error\(error.diagnostics.count == 1 ? "" : "s") in \(path)", to: &stderr)
        throw ExitCode.failure
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { FileHandle.standardError.write(Data(string.utf8)) }
}

/// Feeds correlation-topic records into a work-order table; true when `event` was one.
func applyCorrelation(_ event: RawEvent, policy: LoadedPolicy, to table: inout WorkOrderTable) -> Bool {
    guard policy.catalog.topic(named: event.topic)?.role == .correlation else { return false }
    try? table.apply(event)
    return true
}
