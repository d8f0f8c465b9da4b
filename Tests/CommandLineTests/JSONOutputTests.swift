import Foundation
import Testing

/// Issue 16: every `--json` writes JSON Lines on standard output only (one object per line,
/// logs and progress on standard error), in the schema the admin API shares, without
/// Swift's own encoding leaking (`_0`, a spec as a JSON string, `\/`).
@Suite(.serialized)
struct JSONOutputTests {
    @Test func everyJSONFlagWritesParseableJSONLinesOnly() async throws {
        let fixture = try CommandLineFixture()
        try fixture.publish([CommandLineFixture.deadLetter(id: "cli-dlq-1"), CommandLineFixture.deadLetter(id: "cli-dlq-2")])
        try fixture.publish([CommandLineFixture.failedInspection(id: "cli-src-1")])
        let cluster = fixture.clusterArguments

        // As in a container or a systemd unit: no $USER, no $LOGNAME. The OS user still names the job.
        var bare = ProcessInfo.processInfo.environment
        bare["USER"] = nil
        bare["LOGNAME"] = nil
        let dryRun = try await Self.jsonLines(["replay", "--topic", "plant.quality.results", "--dry-run"] + cluster, environment: bare)
        #expect(dryRun.map { $0["kind"] as? String } == ["replayEvent", "replayJob"])
        #expect(dryRun.first?["outcome"] as? String == "sent")
        let user = getpwuid(geteuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "uid \(geteuid())"
        #expect(dryRun.last?["requestedBy"] as? String == "cli:\(user)")
        let real = try await Self.jsonLines(["replay", "--from-dlq", "quality", "--requested-by", "INC-1234"] + cluster)
        let job = try #require(real.last)
        #expect(real.count == 1 && job["kind"] as? String == "replayJob" && job["state"] as? String == "completed")
        #expect(job["requestedBy"] as? String == "INC-1234")
        #expect((job["counts"] as? [String: Any]).map { Set($0.keys) }
            == ["selected", "filtered", "sent", "skippedAlreadyProduced", "reDeadLettered", "quarantined", "refused"])
        #expect((job["source"] as? [String: Any])?["topic"] as? String == "dlq.quality")
        #expect(job["filter"] is [String: Any] && job["partitions"] is [Any])
        let id = try #require(job["id"] as? String)

        let listed = try await Self.jsonLines(["replay", "list"] + cluster)
        #expect(listed.count == 2 && listed.allSatisfy { $0["kind"] as? String == "replayJob" })
        let status = try await Self.jsonLines(["replay", "status", id] + cluster)
        #expect(status.count == 1 && status.first?["id"] as? String == id)
        // Every partition that had records to read has its checkpoint.
        #expect((status.first?["partitions"] as? [[String: Any]])?.allSatisfy { ($0["until"] as? Int) == ($0["from"] as? Int) || $0["next"] as? Int == $0["until"] as? Int } == true)

        let dlq = try await Self.jsonLines(["dlq", "list"] + cluster)
        #expect(dlq.count == 2 && dlq.allSatisfy { $0["lane"] as? String == "quality" && $0["resolved"] as? Bool == true })
        #expect(dlq.allSatisfy { $0["replays"] as? Int == 1 && $0["resolvedBy"] as? String == id })
        #expect(try await Self.jsonLines(["dlq", "list", "--lane", "quality", "--unresolved"] + cluster).isEmpty)
        #expect(try await Self.jsonLines(["dlq", "show", "--lane", "quality"] + cluster).count == 2)
        let stats = try await Self.jsonLines(["dlq", "stats"] + cluster)
        #expect(stats.count > 1 && stats.contains { $0["lane"] as? String == "quality" && $0["resolved"] as? Int == 2 && $0["unresolved"] as? Int == 0 })

        let trace = try await Self.jsonLines(["trace", "cli-dlq-1", "--database", fixture.database])
        #expect(trace.count == 1 && trace.first?["outcome"] as? String == "workflow")

        // A refused command writes its error on standard error and nothing on standard output.
        let refused = try await PlantRouterBinary.run(["replay", "cancel", id, "--json"] + cluster)
        #expect(refused.status != 0 && refused.stdout.isEmpty && refused.stderr.contains("already completed"))
    }

    /// Runs `plantrouter arguments… --json`, expects success, and parses every line of
    /// standard output with JSONSerialization as one JSON object.
    static func jsonLines(
        _ arguments: [String], environment: [String: String]? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [[String: Any]] {
        let output = try await PlantRouterBinary.run(arguments + ["--json"], environment: environment)
        #expect(output.status == 0, "plantrouter \(arguments.joined(separator: " ")) --json exited \(output.status): \(output.stderr)", sourceLocation: sourceLocation)
        #expect(!output.stdout.contains(#"\/"#) && !output.stdout.contains(#""_0""#), "\(output.stdout)", sourceLocation: sourceLocation)
        var objects: [[String: Any]] = []
        for line in output.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8))
            guard let object = parsed as? [String: Any] else {
                Issue.record("not one JSON object per line in `plantrouter \(arguments.joined(separator: " ")) --json`: \(line.prefix(300))", sourceLocation: sourceLocation)
                continue
            }
            objects.append(object)
        }
        #expect(output.stdout.isEmpty || output.stdout.hasSuffix("\n"), sourceLocation: sourceLocation)
        return objects
    }
}
