import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import TestProcesses

/// One `plantrouter run` child process on tansu, with its own ledger and admin port. Killing
/// it with SIGKILL is a real crash: no drain, no commit, no leaving the group.
final class RouterInstance: Sendable {
    let instanceID: String
    let adminPort: Int
    let log: URL
    let configuration: URL
    let database: URL
    /// The current run; `start()` replaces it.
    private let current = Mutex<ChildProcess?>(nil)
    private var process: ChildProcess? { current.withLock { $0 } }

    init(broker: TansuBroker, instanceID: String, groupPrefix: String) throws {
        self.instanceID = instanceID
        adminPort = try freePort()
        log = broker.folder.appendingPathComponent("\(instanceID).log")
        configuration = broker.folder.appendingPathComponent("\(instanceID).yaml")
        database = broker.folder.appendingPathComponent("\(instanceID).sqlite")
        let yaml = """
            # Written by BrokerIntegrationTests: tansu of this test, the repository's Topics/.
            cluster:
              bootstrapServers: "\(broker.bootstrap)"
              consumer:
                # tansu does not answer a waiting fetch early (DESIGN.md).
                fetch.wait.max.ms: "10"
                # A killed member leaves its partitions to the others after this.
                session.timeout.ms: "6000"
            topics: "\(BrokerEnvironment.topics.path)"
            database: "\(database.path)"
            instanceID: \(instanceID)
            groupPrefix: \(groupPrefix)
            admin: { host: 127.0.0.1, port: \(adminPort) }

            """
        try yaml.write(to: configuration, atomically: true, encoding: .utf8)
    }

    /// Starts (or restarts) the process; the same instanceID fences the previous run's transactions.
    func start() throws {
        guard let binary = BuiltPrograms.plantrouter else { throw BrokerTestError("plantrouter is not built") }
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        let process = try ChildProcess(
            binary, arguments: ["run", "--config", configuration.path, "--log-level", "info"], environment: BrokerEnvironment.childEnvironment,
            standardOutput: .file(handle), standardError: .file(handle))
        current.withLock { $0 = process }
    }

    var isRunning: Bool { process?.isRunning ?? false }
    var pid: Int32? { process?.processIdentifier }

    /// Waits up to `timeout` for an exit caused elsewhere; true when SIGKILL ended the process.
    func reapKilled(timeout: TimeInterval = 10) -> Bool {
        process?.waitUntilExit(timeout: .milliseconds(Int(timeout * 1000))) == .signalled(SIGKILL)
    }

    /// SIGKILL; true when the process died of it.
    @discardableResult
    func kill() -> Bool {
        guard let process, process.isRunning else { return false }
        return process.kill() == .signalled(SIGKILL)
    }

    /// SIGTERM (drain, commit, leave the group), SIGKILL after `timeout`; how it ended.
    @discardableResult
    func terminate(timeout: TimeInterval = 30) -> ChildProcess.Termination? {
        guard let process, process.isRunning else { return nil }
        return process.terminate(timeout: .milliseconds(Int(timeout * 1000)))
    }

    /// A counter of this process's /metrics for `lane`, nil while the admin API does not answer.
    func metric(_ name: String, lane: String, extra: String = "") async -> Double? {
        guard let url = URL(string: "http://127.0.0.1:\(adminPort)/metrics"),
              let (data, _) = try? await URLSession.shared.data(from: url) else { return nil }
        let prefix = "\(name){"
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix(prefix) {
            guard line.contains("lane=\"\(lane)\""), extra.isEmpty || line.contains(extra),
                  let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            return value
        }
        return nil
    }

    /// Waits until `/readyz` answers 200 (every lane assigned, producers healthy).
    func waitUntilReady(timeout: Duration) async -> Bool {
        guard let url = URL(string: "http://127.0.0.1:\(adminPort)/readyz") else { return false }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, isRunning {
            if let (_, response) = try? await URLSession.shared.data(from: url), (response as? HTTPURLResponse)?.statusCode == 200 {
                return true
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Runs `plantrouter <arguments>` as a separate process beside this instance (its config
    /// and ledger), like an operator on the same pod; its standard output.
    func command(_ arguments: [String], timeout: TimeInterval = 120) throws -> String {
        guard let binary = BuiltPrograms.plantrouter else { throw BrokerTestError("plantrouter is not built") }
        let output = broker_temporaryFile()
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close(); try? FileManager.default.removeItem(at: output) }
        let process = try ChildProcess(binary, arguments: arguments, environment: BrokerEnvironment.childEnvironment, standardOutput: .file(handle))
        if process.waitUntilExit(timeout: .milliseconds(Int(timeout * 1000))) == nil { process.terminate() }
        return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    }

    func logTail(lines: Int = 25) -> String {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    deinit { _ = terminate(timeout: 5) }
}

private func broker_temporaryFile() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("plantrouter-command-\(UUID().uuidString).out")
    _ = FileManager.default.createFile(atPath: url.path, contents: nil)
    return url
}
