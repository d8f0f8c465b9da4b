import Admin
import Foundation
import Testing

/// Issue 13: `GET //v1/lanes` and `POST //v1/policy` answered 200 with no token, because the
/// token check matched the path string `/v1/` while the router normalises `//v1/`. Now the
/// check is bound to the routes; these tests send every route in every path spelling
/// (byte-exact, over a raw socket) with every kind of credential.
@Suite(.serialized)
struct AdminAuthTests {
    /// One protected route, and what its handler answers an authorised caller (a status and
    /// a text only the handler writes), so a reached handler is told from the router's 404.
    struct Route: Sendable, CustomStringConvertible {
        var method: String
        /// Below /v1/.
        var rest: String
        var role: AdminRole
        var body: String?
        var handlerStatus: Int
        var handlerText: String
        var description: String { "\(method) /v1/\(rest)" }
    }

    static let routes: [Route] = [
        Route(method: "GET", rest: "lanes", role: .viewer, handlerStatus: 200, handlerText: "assignedPartitions"),
        Route(method: "GET", rest: "policy", role: .viewer, handlerStatus: 200, handlerText: "\"version\""),
        Route(method: "POST", rest: "policy", role: .operator, handlerStatus: 200, handlerText: "\"version\""),
        Route(method: "GET", rest: "replays", role: .viewer, handlerStatus: 200, handlerText: "["),
        // `{}` reaches the handler and is refused there: nothing is created.
        Route(method: "POST", rest: "replays", role: .operator, body: "{}", handlerStatus: 400, handlerText: "say what to replay"),
        Route(method: "GET", rest: "replays/no-such-job", role: .viewer, handlerStatus: 404, handlerText: "no replay job"),
        Route(method: "POST", rest: "replays/no-such-job/cancel", role: .operator, handlerStatus: 404, handlerText: "no replay job"),
        Route(method: "GET", rest: "trace/no-such-event", role: .viewer, handlerStatus: 404, handlerText: "nothing recorded"),
    ]

    /// What the server does with one spelling of a path, whatever the credential.
    enum Outcome: Sendable {
        /// The router resolves it to the route: the role check, then the handler.
        case resolves
        /// No route: 404 "no route" for everyone.
        case noRoute
        /// Not an origin-form request target: the HTTP parser answers 400 before routing.
        case malformed
    }

    /// Ways to spell `/v1/<rest>`, and what each comes to.
    static let variants: [(name: String, outcome: Outcome, spell: @Sendable (String) -> String)] = [
        ("/v1/x", .resolves, { "/v1/\($0)" }),
        ("//v1/x", .resolves, { "//v1/\($0)" }),
        ("/v1//x", .resolves, { "/v1//\($0)" }),
        ("/v1/x/ (trailing slash)", .resolves, { "/v1/\($0)/" }),
        ("/v1/./x", .noRoute, { "/v1/./\($0)" }),
        ("/v1/../v1/x", .noRoute, { "/v1/../v1/\($0)" }),
        ("%2Fv1%2Fx", .malformed, { "%2Fv1%2F\($0.replacingOccurrences(of: "/", with: "%2F"))" }),
        ("/v1%2Fx", .noRoute, { "/v1%2F\($0)" }),
        ("/V1/x", .noRoute, { "/V1/\($0)" }),
        ("/%761/x", .noRoute, { "/%761/\($0)" }),
    ]

    enum Credential: String, CaseIterable, Sendable { case none, badToken, viewer, `operator` }

    static func token(_ credential: Credential) -> String? {
        switch credential {
        case .none: nil
        case .badToken: "operator-token-but-longer"
        case .viewer: AdminAPITests.viewer
        case .operator: AdminAPITests.operatorToken
        }
    }

    @Test func everyRouteRoleAndPathSpelling() async throws {
        let fixture = try AdminAPITests.Fixture()
        try await fixture.test { client in
            var table: [String] = []
            for route in Self.routes {
                for variant in Self.variants {
                    let target = variant.spell(route.rest)
                    for credential in Credential.allCases {
                        let reply = try await client.raw(route.method, target, token: Self.token(credential), body: route.body)
                        let reachedHandler = reply.status == route.handlerStatus && reply.body.contains(route.handlerText)
                        let what = "\(route.method) \(target) as \(credential.rawValue): \(reply.status) \(reply.body.prefix(120))"
                        table.append(what)
                        if credential == .none || credential == .badToken { #expect(!reachedHandler, "\(what)") }
                        switch variant.outcome {
                        case .noRoute:
                            #expect(reply.status == 404 && reply.body.contains("no route"), "\(what)")
                            continue
                        case .malformed:
                            #expect(reply.status == 400 && !reachedHandler, "\(what)")
                            continue
                        case .resolves:
                            break
                        }
                        switch credential {
                        case .none, .badToken:
                            #expect(reply.status == 401 && reply.body.lowercased().contains("bearer"), "\(what)")
                        case .viewer where route.role == .operator:
                            #expect(reply.status == 403 && reply.body.contains("needs the operator role"), "\(what)")
                        case .viewer, .operator:
                            #expect(reachedHandler, "\(what)")
                        }
                    }
                }
            }
            #expect(table.count == Self.routes.count * Self.variants.count * Credential.allCases.count)
        }
    }

    @Test func onlyTheFourPublicPathsAnswerWithoutAToken() async throws {
        let fixture = try AdminAPITests.Fixture()
        try await fixture.test { client in
            for path in ["/healthz", "/metrics", "/openapi.yaml", "//healthz"] {
                #expect(try await client.raw("GET", path).status == 200, "\(path)")
            }
            #expect(try await client.raw("GET", "/readyz").status == 503)
            for (method, path) in [("GET", "/"), ("GET", "/v1"), ("GET", "/v1/"), ("GET", "/v1/nope"), ("POST", "/healthz"),
                                   ("DELETE", "/v1/lanes"), ("PUT", "/v1/policy"), ("GET", "/admin")] {
                let reply = try await client.raw(method, path)
                #expect(reply.status == 404 && reply.body.contains("no route for \(method)") && reply.body.contains("openapi.yaml"),
                        "\(method) \(path): \(reply.status) \(reply.body)")
            }
        }
    }
}
