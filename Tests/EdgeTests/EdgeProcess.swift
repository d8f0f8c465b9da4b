import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import TestProcesses

/// The built `plantrouter edge` as a child process (build it first: `swift build --build-tests`).
final class EdgeProcess: Sendable {
    let process: ChildProcess
    let log: URL

    init(configuration: URL, log: URL, token: String) throws {
        guard let binary = BuiltPrograms.plantrouter else { throw CocoaError(.fileNoSuchFile) }
        self.log = log
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        var environment = ProcessInfo.processInfo.environment
        environment["PLANTROUTER_EDGE_TOKENS"] = "\(token)=line-1"
        process = try ChildProcess(
            binary, arguments: ["edge", "--config", configuration.path, "--log-level", "notice"], environment: environment,
            standardOutput: .file(handle), standardError: .file(handle))
    }

    /// SIGKILL: no shutdown of any kind.
    func kill() { process.kill() }

    func terminate() { process.terminate(timeout: .seconds(20)) }

    func logTail(lines: Int = 20) -> String {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// A loopback port nobody listens on right now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { return 0 }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
