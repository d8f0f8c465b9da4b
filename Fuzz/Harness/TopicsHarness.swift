import Foundation
import PlantSimulation
import Policy

/// `fuzz-topics`: the input replaces one file of a copy of the default Topics/ folder, which is
/// then reloaded the way `POST /v1/policy` does (`PolicyHolder.reload`, the same loader as
/// `policy check`). The first byte chooses the file: policy.yaml, catalog.yaml, then each
/// schema in name order (modulo the count); the rest is its content. A policy that loads runs
/// simulator traffic (with poison events) and renders its Markdown contract docs; one that does not
/// renders its diagnostics.
public enum TopicsHarness {
    /// The copy, made once per process and restored after every input.
    static let directory: URL = {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("plantrouter-fuzz-topics-\(getpid())")
        do {
            try? FileManager.default.removeItem(at: copy)
            try FileManager.default.copyItem(at: DefaultTopics.url, to: copy)
        } catch {
            fatalError("cannot copy \(DefaultTopics.url.path) to \(copy.path): \(error)")
        }
        atexit { try? FileManager.default.removeItem(at: TopicsHarness.directory) }
        return copy
    }()

    /// Files the first byte chooses from, relative to the folder.
    public static let files: [String] = {
        let schemas = (try? FileManager.default.contentsOfDirectory(atPath: DefaultTopics.url.appendingPathComponent("schemas").path)) ?? []
        return ["policy.yaml", "catalog.yaml"] + schemas.filter { $0.hasSuffix(".json") }.sorted().map { "schemas/" + $0 }
    }()

    /// Bytes, not `Data`: LeakSanitizer takes a global dictionary of `Data` for a leak.
    static let originals: [String: [UInt8]] = Dictionary(uniqueKeysWithValues: files.map { name in
        (name, (try? Data(contentsOf: DefaultTopics.url.appendingPathComponent(name))).map(Array.init) ?? [])
    })

    static let holder = PolicyHolder(DefaultTopics.policy)

    static let traffic: [RawEvent] = {
        var configuration = PlantSimulator.Configuration()
        configuration.count = 60
        configuration.poisonEvery = 7
        let simulator = PlantSimulator(configuration)
        return simulator.workOrderEvents() + simulator.events()
    }()

    /// The file the first byte of `bytes` chooses, and the rest as its content.
    public static func split(_ bytes: some Collection<UInt8>) -> (file: String, content: Data) {
        guard let first = bytes.first else { return (files[0], Data()) }
        return (files[Int(first) % files.count], Data(bytes.dropFirst()))
    }

    @discardableResult
    public static func run(_ bytes: some Collection<UInt8>) -> Result<LoadedPolicy, PolicyLoadError> {
        let (name, content) = split(bytes)
        let url = directory.appendingPathComponent(name)
        write(content, to: url)
        defer { write(Data(originals[name] ?? []), to: url) }
        let result = holder.reload(from: directory)
        switch result {
        case .success(let policy):
            exercise(policy)
        case .failure(let error):
            precondition(!error.diagnostics.isEmpty, "a load failure without a diagnostic")
            _ = error.description
        }
        return result
    }

    /// What a loaded policy is then used for: routing events and `policy docs`.
    static func exercise(_ policy: LoadedPolicy) {
        let engine = PolicyEngine(policy: policy, clock: DefaultTopics.clock)
        var table = WorkOrderTable()
        for raw in traffic {
            if policy.catalog.topic(named: raw.topic)?.role == .correlation {
                try? table.apply(raw)
            } else {
                EnvelopeHarness.check(engine.evaluate(raw, correlation: table), raw, limits: policy.catalog.limits)
            }
        }
        _ = engine.explain(traffic[traffic.count - 1], correlation: table)
        // Markdown only: the AsyncAPI document is Yams serialising our own values, and took a
        // quarter of the time per input.
        _ = ContractDocs.markdown(policy)
    }

    static func write(_ content: Data, to url: URL) {
        do { try content.write(to: url) } catch { fatalError("cannot write \(url.path): \(error)") }
    }
}
