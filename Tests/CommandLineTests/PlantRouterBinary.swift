import Foundation
import Synchronization
import TestProcesses

/// The built `plantrouter` executable, run as a child process with its standard output and
/// standard error captured apart (a `--json` reader sees only standard output).
final class PlantRouterBinary: Sendable {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    private let process: ChildProcess
    /// What each stream wrote, and whether it reached its end.
    private let out = Mutex((data: Data(), closed: false))
    private let err = Mutex((data: Data(), closed: false))
    let arguments: [String]

    /// Starts `plantrouter arguments…`, with `environment` instead of this process's when given.
    init(_ arguments: [String], environment: [String: String]? = nil) throws {
        guard let binary = BuiltPrograms.plantrouter else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "plantrouter (run `swift build` first)"]) }
        self.arguments = arguments
        let stdout = Pipe(), stderr = Pipe()
        process = try ChildProcess(
            binary, arguments: arguments, environment: environment, currentDirectory: FileManager.default.temporaryDirectory,
            standardOutput: .pipe(stdout), standardError: .pipe(stderr))
        stdout.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            self.out.withLock { if data.isEmpty { $0.closed = true; handle.readabilityHandler = nil } else { $0.data.append(data) } }
        }
        stderr.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            self.err.withLock { if data.isEmpty { $0.closed = true; handle.readabilityHandler = nil } else { $0.data.append(data) } }
        }
    }

    var pid: Int32 { process.processIdentifier }
    var stdoutText: String { out.withLock { String(decoding: $0.data, as: UTF8.self) } }
    var stderrText: String { err.withLock { String(decoding: $0.data, as: UTF8.self) } }
    var isRunning: Bool { process.isRunning }

    /// Waits for the exit (killing the process after `timeout`) and returns what it wrote.
    func finish(timeout: Duration = .seconds(60)) async throws -> Output {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { process.send(SIGINT); process.kill() }
        // A signal ends it with 128 + the signal's number, as a shell reports it.
        let status: Int32 = switch process.waitUntilExit() {
        case .exited(let code): code
        case .signalled(let signal): 128 + signal
        }
        // The pipes' last bytes arrive on their handlers' queue after the exit: wait for both ends.
        _ = try await Self.eventually(timeout: .seconds(5)) { self.out.withLock { $0.closed } && self.err.withLock { $0.closed } }
        return Output(status: status, stdout: stdoutText, stderr: stderrText)
    }

    /// Runs `plantrouter arguments…` to its end.
    static func run(_ arguments: [String], environment: [String: String]? = nil, timeout: Duration = .seconds(60)) async throws -> Output {
        try await PlantRouterBinary(arguments, environment: environment).finish(timeout: timeout)
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes.
    static func eventually(timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try condition()
    }
}
