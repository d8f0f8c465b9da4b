import Foundation
import Hummingbird
import Logging
import Policy

/// `GET /v1/policy`: the active version; `POST /v1/policy`: reload from the Topics/
/// directory. A policy that does not load leaves the old one active: 422 with diagnostics.
struct PolicyRoutes {
    struct PolicyView: Codable, Sendable {
        var version: String
        var directory: String
        var rules: Int
        var lastReloadFailure: String?
        var lastReloadFailureAt: Date?
    }

    struct ReloadFailure: Codable, Sendable {
        struct Body: Codable, Sendable {
            var message: String
            var activeVersion: String
            var diagnostics: [String]
        }
        var error: Body
    }

    let policy: PolicyHolder
    let logger: Logger

    func register(on routes: AdminRoutes) {
        routes.viewer.get("policy") { request, _ in
            try request.checkQuery(allowed: [])
            return JSONBody(view())
        }
        routes.operator.post("policy") { request, context -> JSONBody<PolicyView> in
            try request.checkQuery(allowed: [])
            let previous = policy.current.version
            switch policy.reload() {
            case .success(let loaded):
                AdminMetrics.reloadSucceeded.increment()
                logger.notice("policy reloaded by \(context.role?.rawValue ?? "?"): \(previous) → \(loaded.version)")
                return JSONBody(view())
            case .failure(let error):
                AdminMetrics.reloadFailed.increment()
                logger.error("policy reload failed, \(previous) stays active:\n\(error)")
                throw ReloadRejected(body: ReloadFailure(error: .init(
                    message: "the policy in \(policy.current.directory.path) does not load; \(previous) stays active. Fix the diagnostics and reload again.",
                    activeVersion: previous, diagnostics: error.diagnostics.map(\.description))))
            }
        }
    }

    private func view() -> PolicyView {
        let current = policy.current
        let failure = policy.lastFailure
        return PolicyView(
            version: current.version, directory: current.directory.path, rules: current.ruleSummaries.count,
            lastReloadFailure: failure.map { "\($0.error)" }, lastReloadFailureAt: failure?.at)
    }

    /// A 422 whose body lists every diagnostic.
    struct ReloadRejected: HTTPResponseError {
        var body: ReloadFailure
        var status: HTTPResponse.Status { .unprocessableContent }

        func response(from request: Request, context: some RequestContext) throws -> Response {
            try JSONBody(body, status: status).response(from: request, context: context)
        }
    }
}
