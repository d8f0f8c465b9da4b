import ArgumentParser
import Logging

extension Logger.Level: @retroactive ExpressibleByArgument {}

enum LoggingSetup {
    /// Logs to standard error at `level`, leaving standard output to the command's own report
    /// (swift-log's default handler writes to standard output, which would break `--json`).
    /// Call once per process, first thing in a command's `run`.
    static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
