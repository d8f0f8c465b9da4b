import Foundation
import FuzzHarness
import Testing
@testable import Policy

/// The libFuzzer targets' inputs replayed without the fuzzer (Docs/Fuzzing.md): every saved
/// crash input under Fuzz/Regressions/ through its harness, the seed corpora, and one named
/// test per crash the fuzzer found, asserting what the input must now give.
@Suite struct FuzzRegressionTests {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(_ folder: String, _ target: String) -> [(name: String, bytes: [UInt8])] {
        let directory = fuzz.appendingPathComponent(folder).appendingPathComponent(target)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        return names.compactMap { name in
            (try? Data(contentsOf: directory.appendingPathComponent(name))).map { (name, Array($0)) }
        }
    }

    /// One saved input by name (nil when the file is missing).
    static func input(_ target: String, _ name: String) -> [UInt8]? {
        (try? Data(contentsOf: fuzz.appendingPathComponent("Regressions").appendingPathComponent(target).appendingPathComponent(name))).map(Array.init)
    }

    // MARK: Every saved input

    @Test func everyRegressionInputRunsThroughItsHarness() {
        // A regression input that traps again takes the test process down, naming the harness.
        for (_, bytes) in Self.inputs("Regressions", "fuzz-envelope") { EnvelopeHarness.run(bytes) }
        for (_, bytes) in Self.inputs("Regressions", "fuzz-recorded") { RecordedHarness.run(bytes) }
        for (_, bytes) in Self.inputs("Regressions", "fuzz-topics") { TopicsHarness.run(bytes) }
    }

    // MARK: Findings (see Fuzz/lsan-suppressions.txt for the two LeakSanitizer reports)

    /// The fuzzer's first finding on fuzz-envelope: LeakSanitizer reported the payload templates
    /// of the default policy as leaked on the very first input. They are reachable (a tagged
    /// enum pointer LSan does not follow); the input itself is an unknown, empty topic.
    @Test func emptyEnvelopeInputIsAPolicyDeadLetter() throws {
        let bytes = try #require(Self.input("fuzz-envelope", "empty-input-lsan-template-pointers"))
        #expect(bytes.isEmpty)
        let decisions = EnvelopeHarness.run(bytes)
        #expect(decisions.count == 1)
        #expect(decisions.first?.outcome.deadLetterReason == .policy)
        #expect(decisions.first?.outcome.deadLetterMessage == "topic '' is not in the catalog")
    }

    /// fuzz-recorded's first finding: Foundation's `Data(contentsOf:)` leaks 4 KiB on an empty
    /// file (Swift 6.3.1). Not ours to fix; an empty recorded file must still read as no events.
    @Test func emptyRecordedFileReadsAsNoEvents() throws {
        let bytes = try #require(Self.input("fuzz-recorded", "empty-file-foundation-leak"))
        #expect(bytes.isEmpty)
        #expect(try RecordedHarness.run(bytes).get().isEmpty)
    }

    // MARK: Seeds

    @Test func envelopeSeedsReachEveryOutcome() {
        let seeds = Self.inputs("Corpus", "fuzz-envelope")
        #expect(seeds.count >= 20)
        var labels: Set<String> = []
        var rules: Set<String> = []
        for (_, bytes) in seeds {
            for decision in EnvelopeHarness.run(bytes) {
                labels.insert(decision.outcome.label)
                if let rule = decision.ruleID { rules.insert(rule) }
            }
        }
        for label in ["workflow", "analytics", "drop", "dead-letter:parse", "dead-letter:schema", "dead-letter:authority"] {
            #expect(labels.contains(label), "no seed gives \(label); seen: \(labels.sorted())")
        }
        // The windowed rules fire from their repeat seeds.
        #expect(rules.isSuperset(of: ["packaging-line-slowdown", "vibration-alarm"]), "rules seen: \(rules.sorted())")
    }

    @Test func recordedSeedsRead() throws {
        let seeds = Self.inputs("Corpus", "fuzz-recorded")
        #expect(seeds.count >= 3)
        for (name, bytes) in seeds {
            let events = try RecordedHarness.run(bytes).get()
            #expect(!events.isEmpty, "\(name)")
        }
    }

    @Test func topicsSeedsLoad() throws {
        let seeds = Self.inputs("Corpus", "fuzz-topics")
        #expect(seeds.count == TopicsHarness.files.count)
        for (name, bytes) in seeds {
            #expect(TopicsHarness.split(bytes).file.replacingOccurrences(of: "/", with: "-") == name)
            let policy = try TopicsHarness.run(bytes).get()
            #expect(policy.version == DefaultTopics.policy.version)
        }
    }

    @Test func framingReadsTopicKeyTimestampHeadersAndValue() {
        let input = Array("?#1\n@key:K\n@ts:-5\n@repeat:999\nce_id:a:b\nflag\n@other:x\n\n{\"a\":1}\n\n".utf8) + [0x1E] + Array("t".utf8)
        let records = RecordFraming.records(input, topics: ["zero", "one"])
        #expect(records.count == 2)
        let first = records[0]
        #expect(first.explain && first.raw.topic == "one" && first.raw.key == Array("K".utf8) && first.raw.timestampMs == -5)
        #expect(first.repeatCount == RecordFraming.maxRepeat)
        #expect(first.raw.headers == [EventHeader("ce_id", "a:b"), EventHeader(name: "flag", value: nil), EventHeader("@other", "x")])
        #expect(first.raw.value == Array("{\"a\":1}\n\n".utf8))
        #expect(records[1].raw.topic == "t" && records[1].raw.value.isEmpty && records[1].raw.key == nil && !records[1].explain)
    }
}
