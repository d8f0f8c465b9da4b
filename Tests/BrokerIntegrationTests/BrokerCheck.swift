import Foundation
import TestProcesses

/// Tests/broker/brokercheck.py: produces source events and reads what is committed on output
/// topics by applying transaction markers itself (tansu leaves them to the reader; see the
/// script's doc comment).
enum BrokerCheck {
    /// Produces `<prefix>-confirmation-<i>`, `<prefix>-count-<i>`, `<prefix>-reading-<i>` events,
    /// interleaved, at `rate` events/s in all (0: as fast as possible).
    static func produce(
        _ broker: TansuBroker, prefix: String, confirmations: Int = 0, counts: Int = 0, readings: Int = 0, rate: Int = 0, first: Int = 0
    ) async throws {
        _ = try await python([
            "produce", "--bootstrap", broker.bootstrap, "--prefix", prefix, "--confirmations", "\(confirmations)",
            "--counts", "\(counts)", "--readings", "\(readings)", "--rate", "\(rate)", "--first", "\(first)",
        ], timeout: .seconds(120))
    }

    /// SIGKILLs `pid` at a moment when one of its transactions has records on `topics` and no
    /// marker (brokercheck.py freezes it with SIGSTOP to look); nil when no attempt found a
    /// transaction open (the process then runs on).
    static func killMidTransaction(_ broker: TansuBroker, pid: Int32, topics: [String]) async throws -> MidTransactionKill? {
        let output = try await python(["kill-mid-transaction", "--bootstrap", broker.bootstrap, "--pid", "\(pid)",
                                       "--topics", topics.joined(separator: ",")], timeout: .seconds(90))
        let kill = try JSONDecoder().decode(MidTransactionKill.self, from: Data(output.utf8))
        return kill.killed ? kill : nil
    }

    struct MidTransactionKill: Decodable {
        var killed: Bool
        /// Looks (SIGSTOP, read, SIGCONT) until one found a transaction open.
        var attempts: Int
        /// Records of the transactions the kill left open.
        var open: Int
    }

    /// What is committed on `topics`; with `until`, first waits (up to `timeout`) until each
    /// (topic, source-id prefix, n) has n distinct committed sources.
    static func read(_ broker: TansuBroker, topics: [String], until: [(topic: String, prefix: String, count: Int)] = [], timeout: Duration = .seconds(60)) async throws -> CommittedView {
        var arguments = ["read", "--bootstrap", broker.bootstrap, "--topics", topics.joined(separator: ","),
                         "--timeout", "\(timeout.components.seconds)"]
        for wait in until { arguments += ["--until", "\(wait.topic)=\(wait.prefix):\(wait.count)"] }
        let output = try await python(arguments, timeout: timeout + .seconds(60))
        return try JSONDecoder().decode(CommittedView.self, from: Data(output.utf8))
    }

    /// Runs the checker script with the venv's Python; its standard output, or an error with its standard error.
    static func python(_ arguments: [String], timeout: Duration) async throws -> String {
        guard let python = BrokerEnvironment.python else { throw BrokerTestError("PLANTROUTER_BROKER_PYTHON is not set") }
        return try await runToEnd(python, [BrokerEnvironment.checker.path] + arguments, timeout: timeout)
    }
}

/// Runs a program to its end (SIGKILL after `timeout`); its standard output, or an error
/// naming the exit status and standard error.
func runToEnd(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil, timeout: Duration) async throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("broker-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    // Files, not pipes: a chatty child never blocks on a full pipe.
    let out = folder.appendingPathComponent("stdout"), err = folder.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
    defer { try? outHandle.close(); try? errHandle.close() }
    let process = try ChildProcess(
        executable, arguments: arguments, environment: environment, standardOutput: .file(outHandle), standardError: .file(errHandle))
    let deadline = ContinuousClock.now + timeout
    do {
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
    } catch {
        // Cancelled (the test ended early): the child must not outlive it.
        process.kill()
        throw error
    }
    let ended = process.isRunning ? process.kill() : process.waitUntilExit()
    let stdout = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
    guard ended == .exited(0) else {
        throw BrokerTestError("\(executable.lastPathComponent) \(arguments.prefix(2).joined(separator: " ")) ended: \(ended): \(stderr.suffix(2000))")
    }
    return stdout
}

/// The committed view of output topics (brokercheck.py read).
struct CommittedView: Decodable {
    var complete: Bool
    var seconds: Double
    var topics: [String: TopicView]

    func topic(_ name: String) -> TopicView { topics[name] ?? TopicView(records: [], aborted: 0, pending: 0) }
}

struct TopicView: Decodable {
    var records: [CommittedRecord]
    /// Records of aborted transactions (dropped).
    var aborted: Int
    /// Records of transactions no marker ended (not committed).
    var pending: Int

    /// Committed outputs per source event id.
    var countsBySource: [String: Int] {
        records.reduce(into: [:]) { counts, record in counts[record.sourceEventID ?? "", default: 0] += 1 }
    }
}

/// One committed output: [source-event-id, idempotency-key, transactional, partition, offset].
struct CommittedRecord: Decodable {
    var sourceEventID: String?
    var idempotencyKey: String?
    var transactional: Bool
    var partition: Int
    var offset: Int

    init(from decoder: Decoder) throws {
        var row = try decoder.unkeyedContainer()
        sourceEventID = try row.decodeIfPresent(String.self)
        idempotencyKey = try row.decodeIfPresent(String.self)
        transactional = try row.decode(Bool.self)
        partition = try row.decode(Int.self)
        offset = try row.decode(Int.self)
    }
}
