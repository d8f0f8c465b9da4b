import ArgumentParser

@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plantrouter-bench",
        abstract: "Measures PlantRouter against baselines measured in the same run.",
        subcommands: [
            KafkaBenchmark.self,
            PolicyBenchmark.self,
            LedgerBenchmark.self,
            RouterBenchmark.self,
            NativePipe.self,
            EdgeBenchmark.self,
            AuditIndexBenchmark.self,
        ]
    )
}
