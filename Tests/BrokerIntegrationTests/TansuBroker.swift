import Foundation
import TestProcesses

/// A tansu broker with in-memory storage on a free loopback port, one per test, stopped
/// (SIGKILL: its state is thrown away anyway) when the test ends.
final class TansuBroker: Sendable {
    let port: Int
    let folder: URL
    private let process: ChildProcess

    var bootstrap: String { "127.0.0.1:\(port)" }

    init() throws {
        guard let tansu = BrokerEnvironment.tansu else { throw BrokerTestError("PLANTROUTER_TANSU is not set") }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("broker-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try freePort()
        let url = "tcp://127.0.0.1:\(port)"
        let log = folder.appendingPathComponent("tansu.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        process = try ChildProcess(
            tansu, arguments: ["broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/", "--silent"],
            standardOutput: .file(handle), standardError: .file(handle))
        let deadline = Date().addingTimeInterval(10)
        while !canConnect(port: port) {
            guard Date() < deadline, process.isRunning else { stop(); throw BrokerTestError("tansu did not listen on \(port)") }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// `plantrouter topics apply`: the catalog's topics, replication 1 (one broker).
    func createCatalogTopics() async throws {
        guard let binary = BuiltPrograms.plantrouter else { throw BrokerTestError("plantrouter is not built") }
        let configuration = folder.appendingPathComponent("topics.yaml")
        try """
            cluster: { bootstrapServers: "\(bootstrap)" }
            topics: "\(BrokerEnvironment.topics.path)"
            database: "\(folder.appendingPathComponent("topics.sqlite").path)"

            """.write(to: configuration, atomically: true, encoding: .utf8)
        _ = try await runToEnd(binary, ["topics", "apply", "--config", configuration.path, "--replication-factor", "1"],
                               environment: BrokerEnvironment.childEnvironment, timeout: .seconds(60))
    }

    func stop() { process.kill() }

    deinit { stop() }
}

struct BrokerTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A loopback TCP port nobody listens on now (the kernel's choice for port 0).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BrokerTestError("socket: errno \(errno)") }
    defer { close(fd) }
    var address = loopback(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw BrokerTestError("bind: errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw BrokerTestError("getsockname: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}
