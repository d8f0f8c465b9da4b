import Foundation
import TestProcesses

/// The built `plantrouter` executable, run as a child process.
final class RouterProcess: Sendable {
    let process: ChildProcess
    let log: URL

    /// Starts `plantrouter run --config <configuration>`, its output going to `log`.
    init(configuration: URL, log: URL) throws {
        guard let binary = BuiltPrograms.plantrouter else { throw CocoaError(.fileNoSuchFile) }
        self.log = log
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        process = try ChildProcess(
            binary, arguments: ["run", "--config", configuration.path, "--log-level", "info"],
            standardOutput: .file(handle), standardError: .file(handle))
    }

    var pid: Int32 { process.processIdentifier }

    /// SIGKILL: no drain, no commit, no leaving the group.
    @discardableResult
    func kill() -> ChildProcess.Termination { process.kill() }

    /// SIGTERM, then waits up to `timeout` seconds for a graceful exit (SIGKILL after that).
    @discardableResult
    func terminate(timeout: Int = 30) -> ChildProcess.Termination { process.terminate(timeout: .seconds(timeout)) }

    /// The last lines the process wrote, for failure messages.
    func logTail(lines: Int = 30) -> String {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
