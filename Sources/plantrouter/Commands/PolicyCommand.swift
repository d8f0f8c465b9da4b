import ArgumentParser

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Validate, explain and compare event policies.",
        subcommands: [PolicyCheckCommand.self, PolicyExplainCommand.self, PolicyDiffCommand.self]
    )
}
