import ArgumentParser
import Foundation
import PlantSimulation
import Policy

struct PolicyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Evaluates the default policy on a generated plant mix without Kafka."
    )

    @Option(help: "Events per run (generated up front, 95% telemetry / 5% business).")
    var events = 1_000_000

    @Option(help: "Runs; the median is reported, with the fastest run beside it.")
    var runs = 5

    @Option(help: "Topics directory.")
    var topics = "Topics"

    func run() throws {
        let policy = try TopicsDirectory.load(at: URL(fileURLWithPath: topics))
        var config = PlantSimulator.Configuration()
        config.count = events
        let simulator = PlantSimulator(config)
        let input = simulator.events()
        let correlation = simulator.correlation()
        let telemetry = input.filter { $0.topic == PlantSimulator.telemetryTopic }.count
        print("policy \(policy.version): \(input.count) events (\(String(format: "%.1f", 100 * Double(telemetry) / Double(input.count)))% telemetry), \(runs) runs, one thread")

        // Baseline 1: touch every event (copy the struct, sum body bytes' length and header count).
        let copy = measure { () -> Int in
            var sink = 0
            for event in input {
                let e = event
                sink &+= e.value.count &+ e.headers.count &+ Int(e.offset)
            }
            return sink
        }
        // Baseline 2: decoding only (CloudEvents headers + JSON parse into the tape).
        let decode = measure { () -> Int in
            var decoder = EnvelopeDecoder()
            var sink = 0
            for event in input {
                if let decoded = try? decoder.decode(event) { sink &+= decoded.payloadNode &+ Int(decoded.timeMs & 1) }
            }
            return sink
        }
        // The real thing: decode + contract + authority + schema + rules + outputs.
        var outcomes: [String: Int] = [:]
        let evaluate = measure { () -> Int in
            let engine = PolicyEngine(policy: policy)
            var sink = 0
            for event in input {
                let decision = engine.evaluate(event, correlation: correlation)
                if case .workflow(let e) = decision.outcome { sink &+= e.count }
            }
            return sink
        }
        let engine = PolicyEngine(policy: policy)
        for event in input { outcomes[engine.evaluate(event, correlation: correlation).outcome.label, default: 0] += 1 }

        func line(_ name: String, _ time: Timing) -> String {
            let rate = Double(input.count) / time.median
            let nanoseconds = { (seconds: Double) in String(format: "%.1f", seconds * 1e9 / Double(input.count)) }
            return "\(name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%12.0f", rate)) events/s  "
                + "(\(nanoseconds(time.median)) ns/event; fastest run \(nanoseconds(time.fastest)))"
        }
        print(line("baseline: iterate/copy events", copy))
        print(line("baseline: decode only", decode))
        print(line("policy evaluate (decode included)", evaluate))
        print(String(format: "evaluate / decode-only cost ratio: %.2fx; evaluate / copy ratio: %.1fx",
                     evaluate.median / decode.median, evaluate.median / copy.median))
        print("outcomes: " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }

    /// Wall time of the runs, in seconds. On a shared machine noise only ever adds time, so the
    /// fastest run is the steadiest figure for comparing two builds; the median is the one reported.
    private struct Timing {
        var median: Double
        var fastest: Double
    }

    /// Times `runs` runs on this thread.
    private func measure(_ body: () -> Int) -> Timing {
        var times: [Double] = []
        var sink = 0
        for _ in 0..<max(1, runs) {
            let start = ContinuousClock.now
            sink &+= body()
            let elapsed = ContinuousClock.now - start
            times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        if sink == 42 { print("") } // keeps the work observable to the optimiser
        times.sort()
        return Timing(median: times[times.count / 2], fastest: times[0])
    }
}
