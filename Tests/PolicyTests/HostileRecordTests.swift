import Foundation
import Testing
@testable import Policy

/// Issue 13: records built to trap, hang or poison state end in a `parse` dead letter, or are
/// routed without touching windows. Each test names the input that used to trap or slip through.
@Suite struct HostileRecordTests {
    let body = #"{"asset":"A1","value":12.5}"#

    func failure(_ event: RawEvent, _ limits: InputLimits = InputLimits()) -> DecodeFailure? {
        var decoder = EnvelopeDecoder(limits: limits)
        do { _ = try decoder.decode(event); return nil } catch { return error }
    }

    func failure(body: String) -> DecodeFailure? { failure(cloudEvent(body: body)) }

    // MARK: Headers and key

    @Test func seventyThousandHeadersAreAParseDeadLetterNotATrap() {
        // Used to trap: header indexes are Int16.
        let headers = (0..<70_000).map { EventHeader(name: "h\($0)", value: nil) }
        let event = cloudEvent(body: body, extraHeaders: headers)
        let f = failure(event)
        #expect(f?.reason == .parse && f?.field == "headers")
        #expect(f?.message.contains("70006 headers, over the limit of 64 headers (catalog limits.maxHeaders)") == true)
        let decision = PolicyEngine(policy: defaultPolicy).evaluate(event, correlation: NoCorrelation())
        #expect(decision.outcome.deadLetterReason == .parse)
    }

    @Test func headerBytesOverTheLimit() {
        let event = cloudEvent(body: body, extraHeaders: [EventHeader("x-big", String(repeating: "b", count: 17 * 1024))])
        let f = failure(event)
        #expect(f?.field == "headers" && f?.message.contains("catalog limits.maxHeaderBytes") == true)
        var wide = InputLimits()
        wide.maxHeaderBytes = 64 * 1024
        #expect(failure(event, wide) == nil)
    }

    @Test func keyBytesOverTheLimit() {
        let f = failure(cloudEvent(key: String(repeating: "k", count: 4097), body: body))
        #expect(f?.reason == .parse && f?.field == "key" && f?.message.contains("catalog limits.maxKeyBytes") == true)
        #expect(failure(cloudEvent(key: String(repeating: "k", count: 4096), body: body)) == nil)
    }

    // MARK: JSON numbers

    @Test func numberThatOverflowsToInfinityIsAParseFailure() {
        let f = failure(body: #"{"asset":"A1","value":1e400}"#)
        #expect(f?.reason == .parse && f?.field == "value")
        #expect(f?.message.contains("at byte 22: number 1e400 is not a finite double") == true)
        #expect(failure(body: #"{"asset":"A1","value":-1e400}"#)?.reason == .parse)
        #expect(throws: JSONParseError(offset: 5, message: "number 1e400 is not a finite double")) { try JSONDocument(parsing: Array(#"{"a":1e400}"#.utf8)) }
    }

    @Test func numberBeyondTheMagnitudeLimitIsAParseFailure() {
        for big in ["1e16", "-1e16", "10000000000000001", "1.5e15"] {
            let f = failure(body: #"{"asset":"A1","value":\#(big)}"#)
            #expect(f?.reason == .parse && f?.message.contains("catalog limits.maxNumberMagnitude") == true, "\(big)")
        }
        for fine in ["1e15", "-1e15", "999999999999999.9", "1e-400", "0.1"] {
            #expect(failure(body: #"{"asset":"A1","value":\#(fine)}"#) == nil, "\(fine)")
        }
    }

    @Test func numbersReadAsSwiftReadsThem() throws {
        // Leading fraction zeros once used up the 19 digits kept, so these read as 0 or truncated.
        for text in ["0.00000000000000000009e-5", "0.0000000000000000000000000000001e20", "0.00000000000000012345678",
                     "1.0000000000000000000001", "123456789012345678901234e-10", "0.1", "-0.0", "0e99999", "0.000", "1e-400",
                     "9007199254740993", "4.9406564584124654e-324", "999999999999999.9"] {
            let document = try JSONDocument(parsing: Array(text.utf8))
            let expected = try #require(Double(text))
            #expect(document.number(document.root).bitPattern == expected.bitPattern, "\(text)")
        }
        // Their magnitude, not a misread 0, is what the limit judges.
        for hidden in ["0.00000000000000000009e41", "0.0000000000000000000000000000001e47"] {
            #expect(failure(body: #"{"asset":"A1","value":\#(hidden)}"#)?.message.contains("catalog limits.maxNumberMagnitude") == true, "\(hidden)")
        }
    }

    // MARK: JSON objects and strings

    @Test func duplicateObjectKeysAreAParseFailure() {
        let f = failure(body: #"{"asset":"A1","asset":"A2"}"#)
        #expect(f?.reason == .parse && f?.message.contains("at byte 14: duplicate object key \"asset\"") == true)
        // Escaped spellings of the same key, and objects past the pairwise check, are caught too.
        #expect(failure(body: #"{"asset":"A1","\u0061sset":"A2"}"#)?.message.contains("duplicate object key") == true)
        let many = (0..<40).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        #expect(failure(body: "{\(many),\"k7\":1}")?.message.contains("duplicate object key \"k7\"") == true)
        #expect(failure(body: "{\(many)}") == nil)
        // Keys of one length and last byte are compared; only equal ones are duplicates.
        #expect(failure(body: #"{"ab":1,"cb":2,"db":3}"#) == nil)
        #expect(failure(body: #"{"ab":1,"cb":2,"ab":3}"#)?.message.contains("duplicate object key \"ab\"") == true)
        #expect(failure(body: #"{"":1,"x":2,"":3}"#)?.message.contains("duplicate object key") == true)
        // The same key in different objects is fine.
        #expect(failure(body: #"{"a":{"x":1},"b":{"x":2},"x":[{"x":1},{"x":1}]}"#) == nil)
    }

    @Test(arguments: [#""\uD800""#, #""\uDC00x""#, #""\uD800\u0041""#, #""\ud83d""#, #""a\uDFFF""#])
    func loneSurrogatesAreAParseFailure(text: String) {
        let f = failure(body: #"{"asset":"A1","s":\#(text)}"#)
        #expect(f?.reason == .parse && f?.message.contains("unpaired surrogate") == true)
    }

    @Test func surrogatePairsStillParse() throws {
        #expect(failure(body: #"{"asset":"A1","s":"\ud83d\ude00"}"#) == nil)
        #expect(try JSONDocument(parsing: Array(#""\uD83D\uDE00""#.utf8)).value(0) == .string("😀"))
    }

    @Test func jsonDepthComesFromTheLimit() {
        var limits = InputLimits()
        limits.maxJSONDepth = 3
        let f = failure(cloudEvent(body: #"{"a":[[{"b":1}]]}"#), limits)
        #expect(f?.reason == .parse && f?.message.contains("nesting deeper than 3 levels (catalog limits.maxJSONDepth)") == true)
        #expect(failure(cloudEvent(body: #"{"a":[[1]]}"#), limits) == nil)
    }

    // MARK: Time

    /// A catalog + window policy whose engine reads `now` from `clock`.
    func windowEngine(now: Int64) throws -> PolicyEngine {
        let policy = try policyFixture("""
        version: "t"
        rules:
          - id: low-average
            match: { topic: in, type: reading }
            key: payload.asset
            window: { over: 60s, lateness: 10s, value: payload.value }
            condition: window.count >= 2 and window.avg < 10
            then: { drop: low }
          - id: rest
            match: { topic: in, type: '*' }
            then: { analytics: an }
        """).load()
        return PolicyEngine(policy: policy, clock: { now })
    }

    let t0: Int64 = 1_772_352_000_000

    func reading(_ value: Double, time: String?, timestampMs: Int64 = 0) -> RawEvent {
        var e = cloudEvent(topic: "in", type: "reading", source: "gw/1", time: time, key: "A", body: #"{"asset":"A","value":\#(value)}"#)
        e.timestampMs = timestampMs
        return e
    }

    @Test func recordTimestampsAtTheEndsOfInt64DoNotTrap() throws {
        let e = try windowEngine(now: t0)
        for ts in [Int64.min, Int64.min + 1, -1, Int64.max, Int64.max - 1] {
            let d = e.evaluate(reading(5, time: nil, timestampMs: ts), correlation: NoCorrelation())
            #expect(d.outcome.deadLetterReason == nil, "\(ts)")
        }
        // Int64.max is far beyond the skew and moved nothing; the old readings are evicted by
        // the first real one, which with a second forms a window of two.
        #expect(e.evaluate(reading(5, time: RFC3339.format(t0)), correlation: NoCorrelation()).ruleID == "rest")
        #expect(e.evaluate(reading(5, time: RFC3339.format(t0 + 1000)), correlation: NoCorrelation()).ruleID == "low-average")
    }

    @Test func ceTimeInYear9999DoesNotMakeLaterEventsLate() throws {
        let e = try windowEngine(now: t0)
        let far = e.explain(reading(5, time: "9999-12-31T23:59:59.999Z"), correlation: NoCorrelation())
        #expect(far.decision.ruleID == "rest")
        #expect(far.steps.first?.reason.contains("limits.maxClockSkew") == true)
        #expect(e.evaluate(reading(5, time: RFC3339.format(t0 - 1000)), correlation: NoCorrelation()).ruleID == "rest") // count 1
        #expect(e.evaluate(reading(5, time: RFC3339.format(t0)), correlation: NoCorrelation()).ruleID == "low-average") // count 2: in its window
    }

    @Test func eventBeyondTheClockSkewDoesNotMoveTheWindow() throws {
        let e = try windowEngine(now: t0)
        #expect(e.evaluate(reading(5, time: RFC3339.format(t0 - 2000)), correlation: NoCorrelation()).ruleID == "rest")
        // 6 minutes ahead (default skew 5 m): routed by the next rule, window untouched. Had it
        // entered, its 100 would lift the average and, being newest, evict the reading above.
        #expect(e.evaluate(reading(100, time: RFC3339.format(t0 + 6 * 60_000)), correlation: NoCorrelation()).ruleID == "rest")
        #expect(e.evaluate(reading(5, time: RFC3339.format(t0 - 1000)), correlation: NoCorrelation()).ruleID == "low-average")
        // Within the skew an event ahead of the clock still counts.
        let near = try windowEngine(now: t0)
        #expect(near.evaluate(reading(5, time: RFC3339.format(t0 + 4 * 60_000)), correlation: NoCorrelation()).ruleID == "rest")
        #expect(near.evaluate(reading(5, time: RFC3339.format(t0 + 4 * 60_000 + 1)), correlation: NoCorrelation()).ruleID == "low-average")
    }

    @Test func keyStateSaturatesTimeAndRefusesNonFiniteValues() {
        let state = KeyState()
        #expect(state.minimum.isNaN && state.maximum.isNaN)
        #expect(!state.add(time: 0, value: .nan, hit: false, kind: .time(durationMs: 1000, latenessMs: 10)))
        #expect(!state.add(time: 0, value: .infinity, hit: false, kind: .time(durationMs: 1000, latenessMs: 10)))
        #expect(state.count == 0)
        // Used to trap: newest - lateness and newest - duration overflowed.
        let wide = WindowKind.time(durationMs: .max, latenessMs: .max)
        #expect(state.add(time: .min + 1, value: 1, hit: false, kind: wide))
        #expect(state.add(time: .max, value: 2, hit: false, kind: wide))
        #expect(state.count == 1 && state.sum == 2 && state.minimum == 2 && state.maximum == 2) // horizon .max - .max = 0
        #expect(!state.add(time: .min, value: 3, hit: false, kind: wide)) // late: before .max - .max
        let narrow = KeyState()
        #expect(narrow.add(time: .min, value: 1, hit: false, kind: .time(durationMs: 1000, latenessMs: 10)))
        #expect(narrow.add(time: .max, value: 1, hit: false, kind: .time(durationMs: 1000, latenessMs: 10)))
        #expect(!narrow.add(time: .min, value: 1, hit: false, kind: .time(durationMs: 1000, latenessMs: 10)))
        // Finite values whose sum overflows: once the huge ones leave, the sum is finite again.
        let big = KeyState()
        _ = big.add(time: 0, value: .greatestFiniteMagnitude, hit: false, kind: .count(size: 2))
        _ = big.add(time: 1, value: .greatestFiniteMagnitude, hit: false, kind: .count(size: 2))
        #expect(big.sum == .infinity)
        _ = big.add(time: 2, value: 1, hit: false, kind: .count(size: 2))
        _ = big.add(time: 3, value: 1, hit: false, kind: .count(size: 2))
        #expect(big.sum.isFinite)
    }

    @Test func lateEventsKeepTheWindowInTimeOrder() {
        // Values equal to their times: which entries the horizon evicts shows the order kept.
        let kind = WindowKind.time(durationMs: 100, latenessMs: 1000)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let state = KeyState()
            var model: [Int64] = []
            for _ in 0..<200 {
                let time = Int64.random(in: 0...400, using: &rng)
                guard state.add(time: time, value: Double(time), hit: time % 2 == 0, kind: kind) else { continue }
                model.append(time)
                let horizon = (model.max() ?? 0) - 100
                model.removeAll { $0 <= horizon }
                #expect(state.count == model.count && state.sum == Double(model.reduce(0, +)))
                #expect(state.hits == model.filter { $0 % 2 == 0 }.count)
            }
        }
        // Many entries at one time, then older ones within the lateness: each is placed by a search,
        // not a scan past the 100,000 newer ones; those at or before the horizon (900) leave at once.
        let crowded = KeyState()
        for _ in 0..<100_000 { _ = crowded.add(time: 1_000, value: 1, hit: false, kind: kind) }
        for t in 0..<1_000 { #expect(crowded.add(time: Int64(t), value: 1, hit: false, kind: kind)) }
        #expect(crowded.count == 100_099 && crowded.minimum == 1)
    }

    @Test func windowStateIsBoundedInKeysAndEntries() {
        let table = KeyStateTable()
        let first = table.state(string: "asset-0")
        for i in 1..<InputLimits.maxWindowKeys { _ = table.state(string: "asset-\(i)") }
        #expect(table.resets == 0 && table.state(string: "asset-0") === first)
        _ = table.state(string: "one-key-too-many")
        #expect(table.resets == 1 && table.state(string: "asset-0") !== first)
        table.entriesChanged(by: InputLimits.maxWindowEntries + 1)
        _ = table.state(string: "asset-0")
        #expect(table.resets == 2)
    }

    // MARK: Catalog limits

    func catalog(limits: String) -> Fixture {
        Fixture(["catalog.yaml": "limits:\n\(limits)\n" + fixtureCatalog, "schemas/reading.json": fixtureReadingSchema,
                 "schemas/out.json": fixtureOutSchema,
                 "policy.yaml": "version: \"t\"\nrules:\n  - id: rest\n    match: { topic: in, type: '*' }\n    then: { analytics: an }\n"])
    }

    @Test func catalogLimitsAreRead() throws {
        let policy = try catalog(limits: """
          maxEventBytes: 1000
          maxHeaders: 20
          maxHeaderBytes: 2000
          maxKeyBytes: 100
          maxJSONDepth: 8
          maxNumberMagnitude: 1e9
          maxClockSkew: 30s
        """).load()
        var expected = InputLimits()
        expected.maxEventBytes = 1000
        expected.maxHeaders = 20
        expected.maxHeaderBytes = 2000
        expected.maxKeyBytes = 100
        expected.maxJSONDepth = 8
        expected.maxNumberMagnitude = 1e9
        expected.maxClockSkewMs = 30_000
        #expect(policy.catalog.limits == expected)
        #expect(try catalog(limits: "  maxEventBytes: 1000").load().catalog.limits.maxHeaders == InputLimits().maxHeaders)
    }

    @Test(arguments: [
        ("maxHeaders: 0", "'maxHeaders' must be a whole number in 1...4096"),
        ("maxHeaders: 70000", "'maxHeaders' must be a whole number in 1...4096"),
        ("maxJSONDepth: 100000", "'maxJSONDepth' must be a whole number in 1...256"),
        ("maxKeyBytes: lots", "'maxKeyBytes' must be a whole number"),
        ("maxNumberMagnitude: 1e400", "'maxNumberMagnitude' must be a number in 1...1e300"),
        ("maxNumberMagnitude: nan", "'maxNumberMagnitude' must be a number in 1...1e300"),
        ("maxClockSkew: 5 minutes", "invalid maxClockSkew '5 minutes'"),
        ("maxClockSkew: 31d", "maxClockSkew '31d' is over the limit of 30d (maxDurationMs)"),
        ("maxHeader: 10", "unknown key 'maxHeader' in limits"),
    ])
    func badCatalogLimitsAreDiagnosed(line: String, message: String) {
        let diagnostics = catalog(limits: "  " + line).diagnostics()
        #expect(diagnostics.contains { $0.message.contains(message) }, "\(diagnostics)")
    }

    @Test func catalogLimitsReachTheDecoder() throws {
        let policy = try catalog(limits: "  maxHeaders: 6").load()
        let event = cloudEvent(topic: "in", type: "reading", source: "gw/1", body: #"{"asset":"A","value":1}"#, extraHeaders: [EventHeader("x", "y")])
        let message = PolicyEngine(policy: policy).evaluate(event, correlation: NoCorrelation()).outcome.deadLetterMessage
        #expect(message?.contains("7 headers, over the limit of 6 headers") == true)
    }

    // MARK: Recorded-event files

    func readLines(_ lines: [String]) throws -> [RawEvent] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID()).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(lines.joined(separator: "\n").utf8).write(to: file)
        return try RecordedEvent.readLines(at: file)
    }

    func formatError(_ lines: [String]) -> RecordedEvent.FormatError? {
        do { _ = try readLines(lines); return nil } catch { return error as? RecordedEvent.FormatError }
    }

    let good = #"{"topic":"t","valueText":"{}"}"#

    @Test func recordedEventLineOverTheLimitIsAClearError() {
        let long = #"{"topic":"t","valueText":""# + String(repeating: "x", count: InputLimits.maxRecordedLineBytes) + #""}"#
        let error = formatError([good, long, good])
        #expect(error?.line == 2 && error?.message.contains("over the limit of 1048576 bytes (maxRecordedLineBytes)") == true)
    }

    @Test(arguments: [
        (#"{"topic":"t","valueBase64":"%%%"}"#, "\"valueBase64\" is not valid base64"),
        (#"{"topic":"t","keyBase64":"@@","valueText":""}"#, "\"keyBase64\" is not valid base64"),
        (#"{"topic":"t","partition":3000000000,"valueText":""}"#, "\"partition\" must be a whole number in 0...2147483647"),
        (#"{"topic":"t","timestamp":1e30,"valueText":""}"#, "\"timestamp\" must be a whole number"),
        (#"{"topic":"t","offset":-1,"valueText":""}"#, "\"offset\" must be a whole number"),
        (#"{"topic":"t","headers":{"a":1},"valueText":""}"#, "header 'a' must have a string (or null) value"),
        (#"{"topic":"t","valu":{}}"#, "unknown key 'valu'; did you mean 'value'?"),
        (#"{"topic":"t","value":{},"valueText":""}"#, "not several"),
        (#"{"topic":"t","topic":"u","valueText":""}"#, "duplicate object key"),
        (#"[1]"#, "not a JSON object"),
        (#"{"topic":"t","value":"\uD800"}"#, "unpaired surrogate"),
    ])
    func badRecordedEventsAreClearErrors(line: String, message: String) {
        let error = formatError(["# comment", "", line])
        #expect(error?.line == 3 && error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func recordedEventIntegersAreExactAndValueIsCompacted() throws {
        let events = try readLines([#"{"topic":"t","offset":9007199254740993,"timestamp":-9223372036854775808,"headers":{"n":null,"a":"b"},"value":{ "x" : [1, 2] }}"#])
        #expect(events.first?.offset == 9_007_199_254_740_993 && events.first?.timestampMs == .min)
        #expect(events.first?.headers == [EventHeader(name: "n", value: nil), EventHeader("a", "b")])
        #expect(events.first.map { String(decoding: $0.value, as: UTF8.self) } == #"{"x":[1,2]}"#)
    }
}
