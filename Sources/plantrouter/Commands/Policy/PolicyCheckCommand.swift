import ArgumentParser
import Policy

struct PolicyCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the catalog, schemas and policy together; exits non-zero on any error, prints warnings."
    )

    @Option(help: "Topics directory (catalog.yaml, schemas/, policy.yaml) or a policy file.")
    var topics = "Topics"

    func run() async throws {
        let policy = try loadTopicsOrExit(topics)
        let catalog = policy.catalog
        for warning in policy.warnings { print(warning) }
        print("ok: policy \(policy.version): \(policy.ruleSummaries.count) rules, \(catalog.topics.count) topics, \(catalog.lanes.count) lanes")
    }
}
