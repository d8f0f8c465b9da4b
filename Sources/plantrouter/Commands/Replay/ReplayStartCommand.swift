import ArgumentParser
import Foundation
import Ledger
import Logging
import Replay

struct ReplayStartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Create a replay job and run it (the default of `plantrouter replay`).")

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var filters: FilterOptions

    @Option(help: "Replay this lane's dead-letter topic.")
    var fromDLQ: String?

    @Option(help: "Replay a range of this source topic.")
    var topic: String?

    @Option(help: "First offset, in every partition (inclusive).")
    var fromOffset: Int64?

    @Option(help: "Last offset, in every partition (inclusive).")
    var toOffset: Int64?

    @Option(help: "Only records at or after this time (RFC 3339); found with offsetsForTimes.")
    var since: Date?

    @Option(help: "Only records before this time (RFC 3339).")
    var until: Date?

    @Option(help: "reroute (through the current policy) or redrive (original bytes to the original topic).")
    var mode: ReplayMode = .reroute

    @Flag(help: "Report what would be sent where, with its classification; write nothing to Kafka.")
    var dryRun = false

    @Option(help: "At most this many events per second, 0.1 to 100000 (InputLimits.replayRate); no limit when absent.")
    var rate: Double?

    @Option(help: "Quarantine events already replayed this many times instead of replaying them.")
    var maxReplays = ReplayRequest.defaultMaxReplays

    @Flag(help: "Print JSON (dry-run events as JSON lines, then the job).")
    var json = false

    @Option(help: "Log level for diagnostics on standard error.")
    var logLevel: Logger.Level = .warning

    var request: ReplayRequest {
        ReplayRequest(
            fromDLQ: fromDLQ, topic: topic, fromOffset: fromOffset, toOffset: toOffset,
            since: since ?? filters.from, until: until ?? filters.to, reason: filters.reason, type: filters.type,
            source: filters.source, key: filters.key, correlationId: filters.correlationId, mode: mode, dryRun: dryRun,
            rate: rate, maxReplays: maxReplays)
    }

    /// The same bounds as the admin API (`--rate 1e-12` is an error, not a trap), checked
    /// before anything is opened.
    func validate() throws {
        do {
            try request.validate()
        } catch let error as ReplayError {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        LoggingSetup.bootstrap(level: logLevel)
        let request = request
        let jobs = try ReplayTool.jobs(cluster)
        let job: ReplayJob
        do {
            job = try await jobs.create(request, requestedBy: ReplayTool.requestedBy)
        } catch let error as ReplayError {
            throw ValidationError(error.message)
        }
        print("replay job \(job.id): \(job.mode.rawValue) \(job.source.topic)\(job.dryRun ? " (dry run, nothing is written to Kafka)" : "")")
        try await ReplayTool.run(job.id, jobs: jobs, json: json)
    }
}

extension ReplayMode: ExpressibleByArgument {}

/// What every replay subcommand shares: opening the ledger and policy, running with progress.
enum ReplayTool {
    static var requestedBy: String {
        "cli:\(ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "unknown")"
    }

    static func jobs(_ options: ClusterOptions) throws -> ReplayJobs {
        let resolved = try options.resolve()
        let policy = try loadPolicyHolder(resolved.topics)
        return ReplayJobs(
            ledger: try Ledger(path: resolved.database), cluster: resolved.cluster.forTools, policy: policy,
            logger: Logger(label: "plantrouter.replay"))
    }

    /// Runs a job in the foreground: a progress bar on a terminal, plain lines otherwise;
    /// SIGINT stops it after the current checkpoint (resume continues it).
    /// The ledger alone, for commands that only read (`.readOnly`) or cancel jobs; it must exist already.
    static func ledger(_ options: ClusterOptions, access: Ledger.Access = .readWrite) throws -> Ledger {
        let path = URL(fileURLWithPath: try options.resolve(needsCluster: false).database).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no ledger at \(path); pass --database FILE or --config FILE (the router's)")
        }
        return try Ledger(path: path, access: access)
    }

    static func run(_ jobID: String, jobs: ReplayJobs, json: Bool) async throws {
        let control = ReplayControl()
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT)
        interrupt.setEventHandler { control.stop() }
        interrupt.resume()
        defer { interrupt.cancel() }
        let progress = ProgressPrinter()
        // A dry run's report is the list of events; a real run reports counts only.
        let listEvents = try await jobs.job(id: jobID).dryRun
        let job = try await jobs.run(jobID: jobID, control: control, onProgress: progress.update) { event in
            guard listEvents else { return }
            progress.printAbove(json ? ((try? jsonLine(event)) ?? "") : describe(event))
        }
        progress.finish()
        if json {
            print(try jsonText(job))
        } else {
            let counts = job.counts
            print("job \(job.id) \(job.state.rawValue): selected \(counts.selected), sent \(counts.sent), skipped (already produced) \(counts.skipped), re-dead-lettered \(counts.failed), quarantined \(counts.quarantined)")
            if let error = job.lastError { print("last error: \(error)") }
            if job.state == .paused { print("resume with: plantrouter replay resume \(job.id)") }
        }
        if job.state == .failed { throw ExitCode.failure }
    }

    static func describe(_ event: ReplayEventReport) -> String {
        let targets = event.targets.map { "\($0.topic)\($0.alreadyProduced ? " (already produced, skipped)" : "")" }
        let rule = event.ruleID.map { " rule \($0)" } ?? ""
        let why = event.reason.map { " (\($0))" } ?? ""
        return "\(event.topic)[\(event.partition)]@\(event.offset) \(event.eventType ?? "?") \(event.eventID ?? "") → \(event.classification)\(rule)\(why)\(targets.isEmpty ? "" : " → " + targets.joined(separator: ", "))"
    }

    private static func jsonLine(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
