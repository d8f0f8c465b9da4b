import ArgumentParser

struct PolicyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Evaluates the default policy on a generated plant mix without Kafka."
    )
}
