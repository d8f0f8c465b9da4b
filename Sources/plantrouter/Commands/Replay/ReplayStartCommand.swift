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

    @Option(help: "Only this partition; with --offset, exactly one record.")
    var partition: Int32?

    @Option(help: "Exactly the record at this offset of --partition (same as --from-offset O --to-offset O).")
    var offset: Int64?

    @Option(help: "Exactly one event: the latest record whose CloudEvents id (ce_id) is this (see `dlq list`).")
    var eventId: String?

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

    @Option(help: "Who asks, recorded with the job (default: cli:<the OS user>).")
    var requestedBy: String?

    @Flag(help: "Print JSON Lines on standard output: dry-run events (kind replayEvent), then the job (kind replayJob).")
    var json = false

    @Option(help: "Log level for diagnostics on standard error.")
    var logLevel: Logger.Level = .warning

    var request: ReplayRequest {
        ReplayRequest(
            fromDLQ: fromDLQ, topic: topic, fromOffset: offset ?? fromOffset, toOffset: offset ?? toOffset,
            partition: partition, eventId: eventId, since: since ?? filters.from, until: until ?? filters.to, reason: filters.reason, type: filters.type,
            source: filters.source, key: filters.key, correlationId: filters.correlationId, mode: mode, dryRun: dryRun,
            rate: rate, maxReplays: maxReplays)
    }

    /// The same bounds as the admin API (`--rate 1e-12` is an error, not a trap), checked
    /// before anything is opened.
    func validate() throws {
        if offset != nil {
            guard partition != nil else { throw ValidationError("--offset needs --partition: an offset names a record only within its partition") }
            guard fromOffset == nil, toOffset == nil else { throw ValidationError("--offset replays one record; leave out --from-offset and --to-offset") }
        }
        if let requestedBy, requestedBy.trimmingCharacters(in: .whitespaces).isEmpty || requestedBy.count > 200 {
            throw ValidationError("--requested-by must be 1 to 200 characters (a person or a ticket, e.g. alice or INC-1234)")
        }
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
        let job = try await ReplayTool.rethrowingForUser {
            try await jobs.create(request, requestedBy: requestedBy ?? ReplayTool.defaultRequestedBy)
        }
        let header = "replay job \(job.id): \(job.mode.rawValue) \(job.source.topic), requested by \(job.requestedBy)\(job.dryRun ? " (dry run, nothing is written to Kafka or the audit trail)" : "")"
        if json {
            printNotice(header)
        } else {
            print(header)
            fflush(nil)  // before the first progress line on standard error
        }
        try await ReplayTool.run(job.id, jobs: jobs, cluster: cluster, json: json)
    }
}

extension ReplayMode: ExpressibleByArgument {}

/// What every replay subcommand shares: opening the ledger and policy, running with progress.
enum ReplayTool {
    /// `cli:<OS user>`; `--requested-by` overrides it.
    static var defaultRequestedBy: String { "cli:\(OperatingUser.name)" }

    static func jobs(_ options: ClusterOptions) throws -> ReplayJobs {
        let resolved = try options.resolve()
        let policy = try loadPolicyHolder(resolved.topics)
        return ReplayJobs(
            ledger: try Ledger(path: resolved.database), cluster: resolved.cluster.forTools, policy: policy,
            logger: Logger(label: "plantrouter.replay"))
    }

    /// The ledger alone, for commands that only read (`.readOnly`) or cancel jobs; it must exist already.
    static func ledger(_ options: ClusterOptions, access: Ledger.Access = .readWrite) throws -> Ledger {
        let path = URL(fileURLWithPath: try options.resolve(needsCluster: false).database).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no ledger at \(path); pass --database FILE or --config FILE (the router's)")
        }
        return try Ledger(path: path, access: access)
    }

    /// Runs a job in the foreground, progress on standard error. The first Ctrl-C is
    /// acknowledged at once and stops the job at a checkpoint within a second (exit 130,
    /// `replay resume` continues it); a second one quits at once (the chunk in flight is
    /// re-checked on resume, its outputs keep their idempotency keys).
    /// Exit codes: 0 completed, 2 completedWithDeadLetters, 130 interrupted, 1 failed or cancelled.
    static func run(_ jobID: String, jobs: ReplayJobs, cluster: ClusterOptions, json: Bool) async throws {
        let control = ReplayControl()
        let resume = "plantrouter replay resume \(jobID)\(cluster.commandLine)"
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "plantrouter.sigint"))
        interrupt.setEventHandler {
            if control.isStopRequested {
                printNotice("\nSecond Ctrl-C: quitting now. Resume from the last checkpoint with: \(resume)")
                exit(130)
            }
            control.stop()
            printNotice("\nCtrl-C: stopping replay job \(jobID) at a checkpoint (within a second); Ctrl-C again quits at once.")
        }
        interrupt.resume()
        defer { interrupt.cancel() }
        let progress = ProgressPrinter()
        progress.start()
        // A dry run's report is the list of events; a real run reports counts only.
        let listEvents = try await jobs.job(id: jobID).dryRun
        let job = try await jobs.run(jobID: jobID, control: control, onProgress: progress.update) { event in
            guard listEvents else { return }
            progress.printAbove(json ? ((try? ReportJSON.line(event)) ?? "") : describe(event))
        }
        await progress.finish()
        if json {
            try JSONLines.emit(try await jobs.view(id: job.id))
        } else {
            print("job \(job.id) \(job.state.rawValue): \(job.counts.summary)")
            if let error = job.lastError { print("last error: \(error)") }
            if job.state == .completedWithDeadLetters {
                print("\(job.counts.stillDeadLetters) selected event\(job.counts.stillDeadLetters == 1 ? " is" : "s are") still dead letters; see them with: plantrouter dlq list\(cluster.commandLine)")
            }
        }
        switch job.state {
        case .completed: return
        case .completedWithDeadLetters: throw ExitCode(2)
        case .paused:
            printNotice("Replay job \(job.id) stopped at its checkpoint (paused). Resume with: \(resume)")
            throw ExitCode(130)
        default: throw ExitCode.failure
        }
    }

    static func describe(_ event: ReplayEventReport) -> String {
        let targets = event.targets.map { "\($0.topic)\($0.alreadyProduced ? " (already produced, skipped)" : "")" }
        let rule = event.ruleID.map { " rule \($0)" } ?? ""
        let why = event.reason.map { " (\($0))" } ?? ""
        return "\(event.topic)[\(event.partition)]@\(event.offset) \(event.eventType ?? "?") \(event.eventID ?? "") → \(event.classification) [\(event.outcome.rawValue)]\(rule)\(why)\(targets.isEmpty ? "" : " → " + targets.joined(separator: ", "))"
    }
}
