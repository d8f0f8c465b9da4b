import ArgumentParser

struct KafkaBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Produce then consume on the embedded cluster, Swift layer against raw librdkafka calls."
    )
}
