import Admin
import Foundation
import Policy
import Testing

/// Request bodies, query parameters and the tokens file: hostile or careless input gets a
/// 4xx (or a load error) that says what to fix, never a trap, and never a silent default.
@Suite(.serialized)
struct AdminInputTests {
    static let op = AdminAPITests.operatorToken

    @Test func misspeltKeyIsRefusedWithAHintAndStartsNoJob() async throws {
        let fixture = try AdminAPITests.Fixture()
        try await fixture.test { client in
            // Issue 13: `dryrun` was ignored and a real, non-dry replay job started.
            let reply = try await client.execute("POST", "/v1/replays", token: Self.op, body: #"{"fromDLQ": "quality", "dryrun": true}"#)
            #expect(reply.status == 400)
            #expect(reply.body.contains("unknown key 'dryrun'; did you mean 'dryRun'?"))
            let several = try await client.execute("POST", "/v1/replays", token: Self.op, body: #"{"fromDLQ": "quality", "x": 1, "ratee": 5}"#)
            #expect(several.status == 400 && several.body.contains("unknown keys 'ratee', 'x'"))
            let null = try await client.execute("POST", "/v1/replays", token: Self.op, body: #"{"fromDLQ": "quality", "dryRun": null}"#)
            #expect(null.status == 400 && null.body.contains("'dryRun' is null"))
            let notAnObject = try await client.execute("POST", "/v1/replays", token: Self.op, body: "[1]")
            #expect(notAnObject.status == 400 && notAnObject.body.contains("JSON object"))
        }
        #expect(try await fixture.ledger.jobs(limit: 10).isEmpty)
    }

    /// Issue 13: a replay rate of 1e-12 trapped the process in the rate limiter.
    @Test func replayRateOf1eMinus12IsA400NotATrap() async throws {
        let fixture = try AdminAPITests.Fixture()
        try await fixture.test { client in
            for rate in ["1e-12", "0", "-1", "0.01", "100001", "1e308"] {
                let reply = try await client.execute("POST", "/v1/replays", token: Self.op, body: #"{"fromDLQ": "quality", "rate": \#(rate)}"#)
                #expect(reply.status == 400 && reply.body.contains("InputLimits.replayRate"), "rate \(rate): \(reply.body)")
            }
            // Not representable as a Double: the JSON decoder refuses it.
            let huge = try await client.execute("POST", "/v1/replays", token: Self.op, body: #"{"fromDLQ": "quality", "rate": 1e400}"#)
            #expect(huge.status == 400)
        }
        #expect(try await fixture.ledger.jobs(limit: 10).isEmpty)
    }

    @Test func everyNumericOptionIsBounded() async throws {
        let fixture = try AdminAPITests.Fixture()
        try await fixture.test { client in
            let cases: [(String, String)] = [
                (#""maxReplays": 0"#, "InputLimits.replayMaxReplays"),
                (#""maxReplays": 101"#, "InputLimits.replayMaxReplays"),
                (#""fromOffset": -1"#, "InputLimits.replayOffset"),
                (#""toOffset": 9223372036854775807"#, "InputLimits.replayOffset"),
                (#""fromOffset": 99999999999999999999"#, "invalid JSON body"),
                (#""since": "0001-01-01T00:00:00Z""#, "InputLimits.replayTime"),
                (#""reason": "polcy""#, "did you mean 'policy'?"),
                (#""mode": "delete""#, "mode"),
            ]
            for (option, expected) in cases {
                let reply = try await client.execute("POST", "/v1/replays", token: Self.op, body: #"{"fromDLQ": "quality", \#(option)}"#)
                #expect(reply.status == 400 && reply.body.contains(expected), "\(option): \(reply.status) \(reply.body)")
            }
        }
        #expect(try await fixture.ledger.jobs(limit: 10).isEmpty)
    }

    @Test func duplicateKeysAreRefusedNotResolved() async throws {
        let fixture = try AdminAPITests.Fixture()
        try await fixture.test { client in
            for body in [#"{"fromDLQ": "quality", "dryRun": false, "dryRun": true}"#, #"{"fromDLQ": "quality", "fromDLQ": "telemetry"}"#] {
                let reply = try await client.execute("POST", "/v1/replays", token: Self.op, body: body)
                #expect(reply.status == 400 && reply.body.contains("duplicate object key"), "\(body): \(reply.status) \(reply.body)")
            }
        }
        #expect(try await fixture.ledger.jobs(limit: 10).isEmpty)
    }

    @Test func oversizedAndDeeplyNestedBodiesAreRefused() async throws {
        let fixture = try AdminAPITests.Fixture()
        try await fixture.test { client in
            let large = #"{"fromDLQ": "quality", "key": ""# + String(repeating: "k", count: InputLimits.maxRequestBodyBytes) + #""}"#
            let tooLarge = try await client.execute("POST", "/v1/replays", token: Self.op, body: large)
            #expect(tooLarge.status == 413 && tooLarge.body.contains("InputLimits.maxRequestBodyBytes"))
            // Just under the body limit, nested as deep as it allows: a parse error, not a stack overflow.
            let depth = InputLimits.maxRequestBodyBytes / 2 - 16
            let deep = #"{"fromDLQ": "#  + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
            let nested = try await client.execute("POST", "/v1/replays", token: Self.op, body: deep)
            #expect(nested.status == 400)
            #expect(try await client.execute("GET", "/healthz").status == 200)
        }
    }

    @Test func queryParametersAreBoundedAndSpelledRight() async throws {
        let fixture = try AdminAPITests.Fixture()
        try await fixture.test { client in
            let viewer = AdminAPITests.viewer
            for query in ["limit=0", "limit=1001", "limit=-5", "limit=abc", "limit=1e3", "limit=99999999999999999999", "limit="] {
                let reply = try await client.execute("GET", "/v1/replays?\(query)", token: viewer)
                #expect(reply.status == 400 && reply.body.contains("InputLimits.listLimit"), "\(query): \(reply.body)")
            }
            let misspelt = try await client.execute("GET", "/v1/replays?limt=5", token: viewer)
            #expect(misspelt.status == 400 && misspelt.body.contains("did you mean 'limit'?"))
            let twice = try await client.execute("GET", "/v1/replays?limit=1&limit=2", token: viewer)
            #expect(twice.status == 400 && twice.body.contains("more than once"))
            let none = try await client.execute("GET", "/v1/lanes?verbose=1", token: viewer)
            #expect(none.status == 400 && none.body.contains("takes none"))
            #expect(try await client.execute("GET", "/v1/replays?limit=1000", token: viewer).status == 200)
            #expect(try await client.execute("GET", "/v1/replays?limit=1", token: viewer).status == 200)
        }
    }
}
