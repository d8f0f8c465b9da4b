import Foundation
import Testing
@testable import Policy

/// Issue 13: a hostile or careless Topics/ directory ends in a diagnostic, never in a trap,
/// a hang or unbounded memory, and a reload with it keeps the running policy.
@Suite struct HostileTopicsTests {
    /// A policy with one rule whose condition is `condition` (line 5, the expression starts at column 16).
    func withCondition(_ condition: String) -> String {
        "version: \"1\"\nrules:\n  - id: r\n    match: { topic: in, type: reading }\n    condition: \(condition)\n    then: { analytics: an }\n"
    }

    func first(_ fixture: Fixture) -> Diagnostic? {
        let d = fixture.diagnostics()
        #expect(!d.isEmpty, "expected a diagnostic")
        return d.first
    }

    func seconds(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let elapsed = clock.measure(body)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    // MARK: 1. Expressions

    @Test func expressionTenThousandParenthesesDeepIsRefusedByLength() {
        let deep = String(repeating: "(", count: 10_000) + "payload.value > 1" + String(repeating: ")", count: 10_000)
        let d = first(policyFixture(withCondition(deep)))
        #expect(d?.message == "in condition: expression is 20017 bytes long, over the limit of 4096 (InputLimits.maxExpressionLength)")
        #expect(d?.line == 5 && d?.column == 16)
    }

    @Test func expressionNestedDeeperThanTheLimitIsRefusedWhereItCrossesIt() {
        // 1,000 `not`s fit the length limit; the 65th is one level too deep.
        let nots = String(repeating: "not ", count: 1000) + "payload.value > 1"
        let d = first(policyFixture(withCondition(nots)))
        #expect(d?.message == "in condition: expression nested deeper than 64 levels (InputLimits.maxExpressionDepth)")
        #expect(d?.line == 5 && d?.column == 16 + 64 * 4)
        // Parentheses and unary minus count the same way.
        let parens = String(repeating: "(", count: 100) + "payload.value > 1" + String(repeating: ")", count: 100)
        #expect(first(policyFixture(withCondition(parens)))?.column == 16 + 64)
        let minus = "payload.value > " + String(repeating: "-", count: 2000) + "1"
        #expect(first(policyFixture(withCondition(minus)))?.message.contains("nested deeper than 64 levels") == true)
    }

    @Test func longOperatorChainsAreBoundedByTreeHeight() {
        // A flat chain parses without recursion, but every later pass recurses over its height.
        let chain = Array(repeating: "payload.value > 1", count: 100).joined(separator: " and ")
        #expect(first(policyFixture(withCondition(chain)))?.message.contains("nested deeper than 64 levels") == true)
        let sum = "payload.value > " + Array(repeating: "1", count: 1000).joined(separator: "+")
        #expect(first(policyFixture(withCondition(sum)))?.message.contains("nested deeper than 64 levels") == true)
        // 32 conditions are fine.
        let fine = Array(repeating: "payload.value > 1", count: 32).joined(separator: " and ")
        #expect(policyFixture(withCondition(fine)).diagnostics().isEmpty)
    }

    @Test func parserRefusesDepthAndLengthDirectly() {
        #expect(throws: ExpressionError.self) { try ExpressionParser.parse(String(repeating: "[", count: 3000)) }
        #expect((try? ExpressionParser.parse(String(repeating: "(", count: 64) + "1" + String(repeating: ")", count: 64)))?.height == 1)
        #expect(throws: ExpressionError.self) { try ExpressionParser.parse(String(repeating: "(", count: 65) + "1" + String(repeating: ")", count: 65)) }
    }

    // MARK: 2. YAML aliases, depth, size

    static let billionLaughs = """
    version: "1"
    rules:
      - id: r
        match: { topic: in, type: reading }
        then:
          workflow:
            - to: out
              type: out.event
              payload:
                asset: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
                b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
                c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
                d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
                e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
                f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
                g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
                h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
                i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
                j: [*i,*i,*i,*i,*i,*i,*i,*i,*i]

    """

    @Test func billionLaughsFailsFastAtTheAnchorAndTheAlias() {
        let fixture = policyFixture(Self.billionLaughs)
        var d: [Diagnostic] = []
        let elapsed = seconds { d = fixture.diagnostics() }
        #expect(elapsed < 0.5, "took \(elapsed) s")
        #expect(d.count == 2)
        #expect(d.first?.message == "YAML anchor '&a' is refused: Topics files allow no anchors or aliases (InputLimits.maxYAMLAliases)")
        #expect(d.first?.line == 10 && d.first?.column == 20)
        #expect(d.last?.message == "YAML alias '*a' is refused: Topics files allow 0 aliases (InputLimits.maxYAMLAliases)")
        #expect(d.last?.line == 11 && d.last?.column == 20)
        #expect(d.allSatisfy { $0.file.hasSuffix("policy.yaml") && $0.hint != nil })
    }

    @Test func aliasedMappingKeysAreRefusedBeforeYamsHashesThem() {
        // Yams hashes mapping keys recursively to find duplicates: an aliased key would be expanded.
        let catalog = "x: &k [a, b]\n? *k\n: 1\n" + fixtureCatalog
        let d = Fixture(["catalog.yaml": catalog, "schemas/reading.json": fixtureReadingSchema, "schemas/out.json": fixtureOutSchema,
                         "policy.yaml": withCondition("true")]).diagnostics()
        #expect(d.map(\.line) == [1, 2])
        #expect(d.allSatisfy { $0.file.hasSuffix("catalog.yaml") })
    }

    @Test func deepYAMLAndTooManyValuesAreRefused() {
        // Block style: the 33rd level is reported where it starts.
        let block = "version: \"1\"\nrules:\n" + (0..<40).map { String(repeating: "  ", count: $0) + "- a:\n" }.joined() + String(repeating: "  ", count: 40) + "x\n"
        let d = first(policyFixture(block))
        #expect(d?.message == "YAML nested deeper than 32 levels (InputLimits.maxYAMLDepth)")
        #expect(d?.line == 3 + 15 && d?.column == 1 + 15 * 2 + 2)
        // Flow style: libyaml reads ahead and stops at its own bound, reported the same way.
        let flow = "version: \"1\"\nrules: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        #expect(first(policyFixture(flow))?.message == "YAML nested deeper than 32 levels (InputLimits.maxYAMLDepth)")
        let wide = "version: \"1\"\nrules: [" + Array(repeating: "1", count: 60_000).joined(separator: ",") + "]\n"
        #expect(first(policyFixture(wide))?.message == "more than 50000 YAML values in one file (InputLimits.maxYAMLNodes)")
    }

    @Test func oversizedAndSpecialFilesAreRefusedBeforeReading() throws {
        let fixture = policyFixture(withCondition("true"))
        fixture.write("policy.yaml", "# " + String(repeating: "x", count: InputLimits.maxTopicsFileBytes) + "\n")
        let d = first(fixture)
        #expect(d?.message == "file is \(InputLimits.maxTopicsFileBytes + 3) bytes, over the limit of 4194304 bytes (InputLimits.maxTopicsFileBytes)")
        #expect(d?.file.hasSuffix("policy.yaml") == true && d?.line == 1)
        // A schema that is a device never ends: refused as not a regular file (and outside anyway).
        try FileManager.default.removeItem(at: fixture.url.appendingPathComponent("policy.yaml"))
        try FileManager.default.createDirectory(at: fixture.url.appendingPathComponent("policy.yaml"), withIntermediateDirectories: false)
        #expect(first(fixture)?.message == "not a regular file")
    }

    // MARK: 3. Durations and integers

    func window(_ lines: String) -> String {
        "version: \"1\"\nrules:\n  - id: r\n    match: { topic: in, type: reading }\n    key: payload.asset\n    window:\n\(lines)\n    condition: window.count > 1\n    then: { analytics: an }\n"
    }

    @Test func hugeDurationsAreOverTheLimitNotATrap() {
        let over = first(policyFixture(window("      over: 99999999999999999d")))
        #expect(over?.message == "over '99999999999999999d' is over the limit of 30d (InputLimits.maxDurationMs)")
        #expect(over?.line == 7 && over?.column == 13)
        #expect(first(policyFixture(window("      over: 99999999999999999999999ms")))?.message.contains("over the limit of 30d") == true)
        let lateness = first(policyFixture(window("      over: 5m\n      lateness: 31d")))
        #expect(lateness?.message == "lateness '31d' is over the limit of 30d (InputLimits.maxDurationMs)")
        #expect(first(policyFixture(window("      over: -5m")))?.message == "invalid over '-5m'")
        #expect(first(policyFixture(window("      over: 0s")))?.message == "window duration must be longer than 0")
        #expect(policyFixture(window("      over: 30d\n      lateness: 1h")).diagnostics().isEmpty)

        let catalog = fixtureCatalog.replacingOccurrences(of: "retention: 1d\n    contractVersion: 1.0.0\n    events:\n      - type: reading",
                                                          with: "retention: 99999999999999999d\n    contractVersion: 1.0.0\n    events:\n      - type: reading")
        let d = Fixture(["catalog.yaml": catalog, "schemas/reading.json": fixtureReadingSchema, "schemas/out.json": fixtureOutSchema,
                         "policy.yaml": withCondition("true")]).diagnostics()
        #expect(d.first?.message == "retention '99999999999999999d' is over the limit of 3650d (InputLimits.maxRetentionMs)")
        #expect(d.first?.file.hasSuffix("catalog.yaml") == true && d.first?.line == 19 && d.first?.column == 16)
    }

    @Test func durationParserChecksOverflow() {
        #expect(Duration.milliseconds("99999999999999999d", limit: .max) == .failure(.overLimit))
        #expect(Duration.milliseconds("106751991167d", limit: .max) == .success(106_751_991_167 * 86_400_000))
        #expect(Duration.milliseconds("106751991168d", limit: .max) == .failure(.overLimit))
        #expect(Duration.milliseconds("+5s", limit: .max) == .failure(.invalid))
        #expect(Duration.milliseconds("5ms", limit: .max) == .success(5))
        #expect(Duration.milliseconds("d", limit: .max) == .failure(.invalid))
        #expect(Duration.text(InputLimits.maxDurationMs) == "30d" && Duration.text(1500) == "1500ms")
    }

    @Test func countWindowsAndCatalogNumbersHaveRanges() {
        let last = first(policyFixture(window("      last: 10001")))
        #expect(last?.message == "'last' must be a whole number in 1...10000 (InputLimits.maxCountWindow), got '10001'")
        #expect(policyFixture(window("      last: 10000")).diagnostics().isEmpty)
        let catalog = fixtureCatalog.replacingOccurrences(of: "p99LatencyMs: 100, maxLag: 1000", with: "p99LatencyMs: 99999999999999999999, maxLag: 0")
        let d = Fixture(["catalog.yaml": catalog, "schemas/reading.json": fixtureReadingSchema, "schemas/out.json": fixtureOutSchema,
                         "policy.yaml": withCondition("true")]).diagnostics()
        #expect(d.map(\.message) == ["'p99LatencyMs' must be a whole number in 1...3600000, got '99999999999999999999'",
                                     "'maxLag' must be a whole number in 1...1000000000, got '0'"])
    }

    // MARK: 4. Schema paths

    func catalogNaming(_ schema: String) -> String {
        fixtureCatalog.replacingOccurrences(of: "      - type: wo\n        schema: schemas/reading.json", with: "      - type: wo\n        schema: \(schema)")
    }

    @Test func schemaPathsMayNotLeaveTheTopicsDirectory() throws {
        for path in ["../../etc/passwd", "/etc/passwd", "schemas/../../outside.json", "~/x.json"] {
            let d = Fixture(["catalog.yaml": catalogNaming(path), "schemas/reading.json": fixtureReadingSchema, "schemas/out.json": fixtureOutSchema,
                             "policy.yaml": withCondition("true")]).diagnostics()
            #expect(d.map(\.message) == ["schema path '\(path)' leaves the Topics directory"], "\(path)")
            #expect(d.first?.line == 37 && d.first?.column == 17)
        }
        // Inside after `..`: fine.
        #expect(Fixture(["catalog.yaml": catalogNaming("schemas/../schemas/reading.json"), "schemas/reading.json": fixtureReadingSchema,
                         "schemas/out.json": fixtureOutSchema, "policy.yaml": withCondition("true")]).diagnostics().isEmpty)
    }

    @Test func symbolicLinksOutOfTheTopicsDirectoryAreRefused() throws {
        let fixture = Fixture(["catalog.yaml": catalogNaming("schemas/linked.json"), "schemas/reading.json": fixtureReadingSchema,
                               "schemas/out.json": fixtureOutSchema, "policy.yaml": withCondition("true")])
        let outside = fixture.url.deletingLastPathComponent().appendingPathComponent("outside-\(UUID().uuidString).json")
        try fixtureReadingSchema.write(to: outside, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(atPath: fixture.url.appendingPathComponent("schemas/linked.json").path, withDestinationPath: outside.path)
        #expect(fixture.diagnostics().map(\.message) == ["schema path 'schemas/linked.json' is a symbolic link that leads out of the Topics directory"])
        // A linked directory that leaves is caught the same way; a link that stays inside is fine.
        try FileManager.default.removeItem(at: fixture.url.appendingPathComponent("schemas/linked.json"))
        try FileManager.default.createSymbolicLink(atPath: fixture.url.appendingPathComponent("schemas/linked.json").path, withDestinationPath: "reading.json")
        #expect(fixture.diagnostics().isEmpty)
        fixture.write("catalog.yaml", catalogNaming("up/\(outside.lastPathComponent)"))
        try FileManager.default.createSymbolicLink(atPath: fixture.url.appendingPathComponent("up").path, withDestinationPath: "..")
        #expect(fixture.diagnostics().first?.message.contains("symbolic link that leads out") == true)
    }

    // MARK: 5. Schema patterns

    func schemaWithPattern(_ pattern: String) -> String {
        let escaped = pattern.replacingOccurrences(of: "\\", with: "\\\\")
        return "{ \"type\": \"object\",\n  \"properties\": { \"asset\": { \"type\": \"string\", \"pattern\": \"\(escaped)\" } } }"
    }

    @Test func catastrophicPatternsAreRefusedAtLoad() {
        for bad in ["^(a+)+$", "^(a|aa)*$", "(\\d|1)+", "^\\d+\\d*$", "a?a?a?aaa", "\\w+-?\\d+", "(\\w)\\1", "(?=a)b", "^(\\d{1,3}\\.){3}\\d{1,3}$",
                    "a++", "\\Qa\\E", "[[a]]", String(repeating: "a", count: 257),
                    // Alternatives one group further in are still alternatives under the repetition.
                    "^(?:(?:a|aa))+$", "^((a|aa))*$", "^(?:(?:\\d|\\d\\d))*$"] {
            let d = Fixture(["catalog.yaml": fixtureCatalog, "schemas/reading.json": schemaWithPattern(bad), "schemas/out.json": fixtureOutSchema,
                             "policy.yaml": withCondition("true")]).diagnostics()
            // reading.json is named by five events of the catalog: one diagnostic each, all alike.
            #expect(d.count == 5 && Set(d.map(\.description)).count == 1, "\(bad)")
            #expect(d.first?.message.hasPrefix("'pattern' refused: ") == true, "\(bad)")
            #expect(d.first?.file.hasSuffix("schemas/reading.json") == true && d.first?.line == 2 && d.first?.column == 59, "\(bad)")
        }
        #expect(PatternSafety.problem(in: "^(a+)+$")?.hasPrefix("nested quantifier") == true)
        #expect(PatternSafety.problem(in: "(a)\\1")?.hasPrefix("backreferences") == true)
        #expect(PatternSafety.problem(in: "^(?:(?:a|aa))+$")?.hasPrefix("nested quantifier: a repeated group contains alternatives") == true)
        #expect(PatternSafety.problem(in: String(repeating: "a", count: 257)) == "pattern is 257 characters long, over the limit of 256 (InputLimits.maxSchemaPatternLength)")
    }

    @Test func ordinaryPatternsAreAccepted() {
        for good in ["^[A-Z]{2}-\\d{4}$", "^L\\d+-[A-Z]+\\d*$", "^[a-z]+(?:-[a-z]+)?$", "^\\d{4}-\\d{2}-\\d{2}T", "^(ab)+$", "^[^/]+/[^/]+$",
                     "^[A-Za-z0-9._-]{1,64}$", "^(?<plant>[a-z]+)/(gw|plc)$", "\\.json$", "^\\u00e9+x"] {
            #expect(PatternSafety.problem(in: good) == nil, "\(good)")
        }
    }

    @Test func requiredPropertiesPastTheMaskAreRefusedNotSkipped() throws {
        func schema(properties: Int, required: [String]) -> String {
            let declared = (0..<properties).map { #""p\#($0)": {"type": "number"}"# }.joined(separator: ", ")
            let names = required.map { #""\#($0)""# }.joined(separator: ", ")
            return #"{"type": "object", "properties": {"asset": {"type": "string"}, \#(declared)}, "required": [\#(names)]}"#
        }
        func diagnostics(_ text: String) -> [Diagnostic] {
            Fixture(["catalog.yaml": fixtureCatalog, "schemas/reading.json": text, "schemas/out.json": fixtureOutSchema,
                     "policy.yaml": withCondition("true")]).diagnostics()
        }
        // `asset` and p0…p62 are the first 64 properties: every one may be required.
        #expect(diagnostics(schema(properties: 63, required: (0..<63).map { "p\($0)" })).isEmpty)
        let late = diagnostics(schema(properties: 65, required: (0..<65).map { "p\($0)" }))
        #expect(late.first?.message.contains("required property 'p63' is property 65 of this object schema") == true, "\(late)")
        #expect(late.first?.message.contains("InputLimits.maxRequiredPropertyPosition") == true)
        // A required name that is not declared counts after every declared property.
        let undeclared = diagnostics(schema(properties: 63, required: ["missing"]))
        #expect(undeclared.first?.message.contains("required property 'missing' is property 65") == true, "\(undeclared)")
    }

    @Test func nestedSchemasKeepNoCopyOfTheirTextAndFilesCompileOnce() throws {
        let nested = #"{"type": "object", "properties": {"asset": {"type": "string"}, "inner": {"type": "object", "examples": [1, 2, 3], "properties": {"x": {"type": "number"}}}}}"#
        let loaded = try Fixture(["catalog.yaml": fixtureCatalog, "schemas/reading.json": nested, "schemas/out.json": fixtureOutSchema,
                                  "policy.yaml": withCondition("true")]).load()
        let events = try #require(loaded.catalog.topic(named: "in")?.events)
        let root = try #require(events.first?.schema)
        // The root keeps its text for the contract docs; nested schemas do not copy theirs.
        #expect(root.source != .null)
        #expect(root.properties.allSatisfy { $0.schema.source == .null })
        // Every event naming reading.json shares one compiled schema.
        #expect(events.count > 1 && events.allSatisfy { $0.schema === root })
    }

    @Test func longStringsFailThePatternInsteadOfBeingMatched() throws {
        let fixture = Fixture(["catalog.yaml": fixtureCatalog, "schemas/reading.json": schemaWithPattern("^[a-z]+\\d*$"),
                               "schemas/out.json": fixtureOutSchema, "policy.yaml": withCondition("true")])
        let schema = try #require(try fixture.load().catalog.topic(named: "in")?.events.first?.schema)
        func check(_ asset: String) throws -> JSONSchema.Violation? {
            try schema.validate(JSONDocument(parsing: Array(#"{"asset":"\#(asset)"}"#.utf8)), 0)
        }
        #expect(try check("abc12") == nil)
        #expect(try check("ABC")?.message.contains("does not match pattern") == true)
        let long = String(repeating: "a", count: InputLimits.maxPatternSubjectBytes + 1)
        var violation: JSONSchema.Violation?
        let elapsed = seconds { violation = try? check(long) }
        #expect(elapsed < 0.5)
        #expect(violation?.message == "string of 1025 bytes is longer than the 1024 bytes a pattern is matched against (InputLimits.maxPatternSubjectBytes)")
        #expect(violation?.pointer == "/asset")
    }

    // MARK: 6. Schema documents

    @Test func schemaDocumentsAreBounded() {
        func load(_ schema: String) -> [Diagnostic] {
            Fixture(["catalog.yaml": fixtureCatalog, "schemas/reading.json": schema, "schemas/out.json": fixtureOutSchema, "policy.yaml": withCondition("true")]).diagnostics()
        }
        let deep = String(repeating: "{\"items\":", count: 10_000) + "{}" + String(repeating: "}", count: 10_000)
        #expect(load(deep).first?.message == "invalid JSON: nesting deeper than 64 levels")
        #expect(load("{ \"$ref\": \"#\" }").first?.message == "unsupported JSON Schema keyword '$ref'")
        let bigEnum = "{ \"enum\": [" + (0...1024).map(String.init).joined(separator: ",") + "] }"
        #expect(load(bigEnum).first?.message == "'enum' lists 1025 values, over the limit of 1024 (InputLimits.maxSchemaEnumValues)")
        #expect(load("{ \"maxLength\": 1e300 }").first?.message == "'maxLength' must be a whole number in 0...1073741824")
        #expect(load("{ \"minItems\": 1.5 }").first?.message == "'minItems' must be a whole number in 0...1073741824")
    }

    // MARK: 7. Reload keeps the running policy

    @Test func reloadWithAHostileFileKeepsTheRunningPolicy() throws {
        let fixture = policyFixture(withCondition("payload.value > 1"))
        let holder = try PolicyHolder(loadingFrom: fixture.url)
        let hostile: [(file: String, text: String, message: String)] = [
            ("policy.yaml", Self.billionLaughs, "YAML anchor '&a' is refused"),
            ("policy.yaml", withCondition(String(repeating: "not ", count: 1000) + "true"), "nested deeper than 64 levels"),
            ("policy.yaml", window("      over: 99999999999999999d"), "over the limit of 30d"),
            ("catalog.yaml", catalogNaming("../../etc/passwd"), "leaves the Topics directory"),
            ("schemas/reading.json", schemaWithPattern("^(a+)+$"), "'pattern' refused: nested quantifier"),
        ]
        for (file, text, message) in hostile {
            let original = try String(contentsOf: fixture.url.appendingPathComponent(file), encoding: .utf8)
            fixture.write(file, text.replacingOccurrences(of: "version: \"1\"", with: "version: \"2\""))
            var result: Result<LoadedPolicy, PolicyLoadError>?
            let elapsed = seconds { result = holder.reload() }
            guard case .failure(let error)? = result else { Issue.record("reload with hostile \(file) should fail"); continue }
            #expect(error.diagnostics.first?.message.contains(message) == true, "\(error)")
            #expect(elapsed < 1, "\(file): \(elapsed) s")
            #expect(holder.current.version == "1")
            #expect(holder.lastFailure?.error.diagnostics == error.diagnostics)
            fixture.write(file, original)
        }
        guard case .success = holder.reload() else { Issue.record("restored files should load"); return }
    }
}
