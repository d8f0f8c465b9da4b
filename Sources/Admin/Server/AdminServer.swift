import Foundation
import HTTPServing
import Hummingbird
import Ledger
import Logging
import Policy
import Replay
import Routing
import ServiceLifecycle

/// The operator HTTP API (see Admin/openapi.yaml), served inside `plantrouter run` as a
/// ServiceLifecycle service next to the router.
public struct AdminServer: Service {
    public struct Dependencies: Sendable {
        public var router: Routing.Router
        public var policy: PolicyHolder
        public var ledger: Ledger
        public var replays: ReplayJobs
        public var tokens: AdminTokens

        public init(router: Routing.Router, policy: PolicyHolder, ledger: Ledger, replays: ReplayJobs, tokens: AdminTokens) {
            self.router = router
            self.policy = policy
            self.ledger = ledger
            self.replays = replays
            self.tokens = tokens
        }
    }

    public let application: Application<RouterResponder<AdminRequestContext>>

    public init(dependencies: Dependencies, host: String, port: Int, logger: Logger) {
        if dependencies.tokens.isEmpty {
            logger.warning("no admin tokens configured: every /v1 route answers 401; set admin.tokensFile or \(AdminTokens.environmentVariable)")
        }
        application = Application(
            router: Self.makeRouter(dependencies, logger: logger),
            server: .boundedHTTP1(cap: ConnectionCap(limit: InputLimits.maxAdminConnections)),
            configuration: .init(address: .hostname(host, port: port), serverName: "plantrouter"),
            logger: logger)
    }

    public func run() async throws {
        try await application.run()
    }

    /// Every route; also what tests drive over loopback (LiveAdmin).
    public static func makeRouter(_ dependencies: Dependencies, logger: Logger) -> Hummingbird.Router<AdminRequestContext> {
        let router = Hummingbird.Router(context: AdminRequestContext.self)
        router.add(middleware: NotFoundMiddleware())
        // Public: AdminRoutes.publicPaths, and nothing else outside the role groups.
        HealthRoutes(router: dependencies.router).register(on: router)
        router.get("/openapi.yaml") { _, _ in
            guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
                  let data = try? Data(contentsOf: url) else {
                throw HTTPError(.internalServerError, message: "openapi.yaml is missing from the Admin bundle")
            }
            return Response(
                status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        let routes = AdminRoutes(on: router, tokens: dependencies.tokens, audit: Logger(label: "plantrouter.admin.audit"))
        LaneRoutes(router: dependencies.router).register(on: routes)
        ReplayRoutes(replays: dependencies.replays, logger: logger).register(on: routes)
        TraceRoutes(ledger: dependencies.ledger).register(on: routes)
        PolicyRoutes(policy: dependencies.policy, logger: logger).register(on: routes)
        return router
    }
}
