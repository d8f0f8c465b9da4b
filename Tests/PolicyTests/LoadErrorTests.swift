import Foundation
import Testing
import Policy

@Suite struct LoadErrorTests {
    let validRule = """
    version: "1"
    rules:
      - id: readings
        match: { topic: in, type: reading }
        then: { analytics: an }
    """

    func only(_ policy: String) -> Diagnostic? {
        let d = policyFixture(policy).diagnostics()
        #expect(d.count >= 1, "expected a diagnostic")
        return d.first
    }

    @Test func fixtureLoads() throws {
        #expect(policyFixture(validRule).diagnostics().isEmpty)
        #expect(try policyFixture(validRule).load().version == "1")
    }

    @Test func malformedYAML() {
        let d = only("version: \"1\"\nrules:\n  - id: x\n    match: { topic: in\n")
        #expect(d?.message.contains("malformed YAML") == true)
        #expect(d?.file.hasSuffix("policy.yaml") == true && (d?.line ?? 0) >= 4)
    }

    @Test func unknownKeyWithSuggestion() {
        let d = only(validRule + "\n    conditon: payload.value > 1\n")
        #expect(d?.message == "unknown key 'conditon' in a rule")
        #expect(d?.hint?.contains("did you mean 'condition'") == true)
        #expect(d?.line == 6 && d?.column == 5)
    }

    @Test func duplicateRuleIDs() {
        let policy = validRule + "\n  - id: readings\n    match: { topic: in, type: alarm }\n    then: { analytics: an }\n"
        let d = only(policy)
        #expect(d?.message == "duplicate rule id 'readings'")
        #expect(d?.line == 6)
    }

    @Test func undefinedTopicsAndTypes() {
        #expect(only(validRule.replacingOccurrences(of: "topic: in,", with: "topic: inn,"))?.hint?.contains("did you mean 'in'") == true)
        #expect(only(validRule.replacingOccurrences(of: "analytics: an", with: "analytics: nope"))?.message == "undefined topic 'nope'")
        #expect(only(validRule.replacingOccurrences(of: "type: reading", with: "type: readings"))?.message.contains("matches no event type") == true)
    }

    @Test func undefinedAndInvalidSchemas() {
        let missing = Fixture(["catalog.yaml": fixtureCatalog.replacingOccurrences(of: "schemas/out.json", with: "schemas/missing.json"),
                               "schemas/reading.json": fixtureReadingSchema, "schemas/out.json": fixtureOutSchema, "policy.yaml": validRule]).diagnostics()
        #expect(missing.first?.message == "undefined schema 'schemas/missing.json'")
        #expect(missing.first?.file.hasSuffix("catalog.yaml") == true)
        let broken = Fixture(["catalog.yaml": fixtureCatalog, "schemas/reading.json": "{\n  \"type\": \"object\",\n  \"properties\": {,}\n}",
                              "schemas/out.json": "{ \"type\": \"object\", \"minProperties\": 1 }", "policy.yaml": validRule]).diagnostics()
        #expect(broken.contains { $0.file.hasSuffix("reading.json") && $0.line == 3 && $0.message.contains("invalid JSON") })
        #expect(broken.contains { $0.message == "unsupported JSON Schema keyword 'minProperties'" })
    }

    @Test func typeErrorsInExpressions() {
        func diag(_ condition: String) -> Diagnostic? {
            only("version: \"1\"\nrules:\n  - id: r\n    match: { topic: in, type: reading }\n    condition: \(condition)\n    then: { analytics: an }\n")
        }
        let stringVsNumber = diag("payload.value == \"high\"")
        #expect(stringVsNumber?.message.contains("cannot compare number with string") == true)
        #expect(stringVsNumber?.line == 5 && stringVsNumber?.column == 30)
        #expect(diag("payload.valu > 1")?.hint == "did you mean 'payload.value'?")
        #expect(diag("payload.value + 1")?.message.contains("must be a condition") == true)
        #expect(diag("payload.asset and true")?.message.contains("needs true/false operands") == true)
        #expect(diag("window.avg > 1")?.message.contains("has no window") == true)
        #expect(diag("workorder.requiredRatePerMinute > 1")?.hint?.contains("correlate") == true)
        #expect(diag("payload.value > ")?.message.contains("ends too early") == true)
        #expect(diag("payload.state = 'x'")?.hint == "use '==' to compare")
    }

    @Test func unreachableRule() {
        let policy = validRule + "\n  - id: later\n    match: { topic: in, type: reading }\n    condition: payload.value > 3\n    then: { drop: x }\n"
        let d = only(policy)
        #expect(d?.message.contains("rule 'later' is unreachable: rule 'readings'") == true)
        // A condition on the earlier rule makes the later one reachable.
        let ok = "version: \"1\"\nrules:\n  - id: a\n    match: { topic: in, type: reading }\n    condition: payload.value > 3\n    then: { drop: x }\n  - id: b\n    match: { topic: in, type: '*' }\n    then: { analytics: an }\n"
        #expect(policyFixture(ok).diagnostics().isEmpty)
    }

    @Test func routesMayNotFeedBackIntoInputs() {
        let toSource = "version: \"1\"\nrules:\n  - id: loop\n    match: { topic: in, type: reading }\n    then:\n      workflow:\n        - { to: in, type: reading }\n"
        #expect(only(toSource)?.message.contains("feeds an output back into an input") == true)
        let toCorrelation = toSource.replacingOccurrences(of: "to: in,", with: "to: mes,")
        #expect(only(toCorrelation)?.message.contains("correlation topic") == true)
        // A cycle between two workflow topics.
        let catalog = fixtureCatalog + "\n" + """
          - name: w2
            lane: plant
            role: workflow
            owner: t
            key: k
            partitions: 1
            replicationFactor: 1
            cleanup: delete
            retention: 1d
            contractVersion: 1.0.0
            events:
              - type: out.event
                schema: schemas/out.json
        """
        let cyclic = "version: \"1\"\nrules:\n  - id: a\n    match: { topic: out, type: out.event }\n    then:\n      workflow:\n        - { to: w2, type: out.event }\n  - id: b\n    match: { topic: w2, type: out.event }\n    then:\n      workflow:\n        - { to: out, type: out.event }\n"
        let d = Fixture(["catalog.yaml": catalog, "schemas/reading.json": fixtureReadingSchema, "schemas/out.json": fixtureOutSchema, "policy.yaml": cyclic]).diagnostics()
        #expect(d.contains { $0.message.contains("closes a routing cycle") })
    }

    @Test func targetMappingIsCheckedAgainstTargetSchema() {
        let policy = "version: \"1\"\nrules:\n  - id: r\n    match: { topic: in, type: reading }\n    then:\n      workflow:\n        - to: out\n          type: out.event\n          payload:\n            avg: payload.asset\n            bogus: payload.value\n"
        let d = policyFixture(policy).diagnostics()
        #expect(d.contains { $0.message.contains("misses required property '/asset'") })
        #expect(d.contains { $0.message.contains("no property '/bogus'") })
        #expect(d.contains { $0.message.contains("payload field /avg is string but the target schema wants number") })
    }

    @Test func reloadKeepsThePreviousPolicyWhenTheNewOneIsInvalid() throws {
        let fixture = policyFixture(validRule)
        let holder = try PolicyHolder(loadingFrom: fixture.url)
        #expect(holder.current.version == "1")
        fixture.write("policy.yaml", validRule.replacingOccurrences(of: "version: \"1\"", with: "version: \"2\"").replacingOccurrences(of: "topic: in,", with: "topic: nowhere,"))
        guard case .failure(let error) = holder.reload() else { Issue.record("reload should fail"); return }
        #expect(error.diagnostics.first?.message == "undefined topic 'nowhere'")
        #expect(holder.current.version == "1")
        #expect(holder.lastFailure != nil)
        fixture.write("policy.yaml", validRule.replacingOccurrences(of: "version: \"1\"", with: "version: \"2\""))
        guard case .success = holder.reload() else { Issue.record("reload should succeed"); return }
        #expect(holder.current.version == "2" && holder.lastFailure == nil)
    }

    @Test func allDiagnosticsAreReportedAtOnce() {
        let policy = "version: \"1\"\nrules:\n  - id: a\n    match: { topic: nope, type: reading }\n    then: { analytics: an }\n  - id: b\n    match: { topic: in, type: reading }\n    colour: red\n    then: { analytics: an }\n"
        #expect(policyFixture(policy).diagnostics().count == 2)
    }
}
