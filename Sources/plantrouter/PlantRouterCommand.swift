import ArgumentParser

@main
struct PlantRouterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plantrouter",
        abstract: "Governed event router between plant systems and enterprise systems on Kafka.",
        version: PlantRouterVersion.current,
        subcommands: [
            DemoCommand.self,
            RunCommand.self,
            PolicyCommand.self,
            TopicsCommand.self,
            TraceCommand.self,
            DLQCommand.self,
            ReplayCommand.self,
            SimulateCommand.self,
            EdgeCommand.self,
        ]
    )
}
