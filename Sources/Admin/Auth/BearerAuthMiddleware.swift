import Hummingbird
import Logging

/// Guards `/v1/*`: a missing or unknown bearer token gets 401, a viewer token on an
/// operator route 403. Every refusal, and every operator action allowed, is written to
/// the `plantrouter.admin.audit` log with method, path and client (X-Forwarded-For when set).
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext

    let tokens: AdminTokens
    let audit: Logger

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1/") else { return try await next(request, context) }
        let needed = Self.requiredRole(request)
        let client = request.headers.first { $0.name.canonicalName == "x-forwarded-for" }?.value ?? "a direct client"
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            audit.warning("refused \(request.method) \(request.uri.path) from \(client): no bearer token (401)")
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "send 'Authorization: Bearer TOKEN' with a token from the admin tokens file or \(AdminTokens.environmentVariable)")
        }
        guard let role = tokens.role(of: String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)) else {
            audit.warning("refused \(request.method) \(request.uri.path) from \(client): unknown bearer token (401)")
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""], message: "the bearer token is not known; check it against the admin tokens file or \(AdminTokens.environmentVariable)")
        }
        guard role >= needed else {
            audit.warning("refused \(request.method) \(request.uri.path) from \(client): role \(role.rawValue) lacks \(needed.rawValue) (403)")
            throw HTTPError(.forbidden, message: "\(request.method) \(request.uri.path) needs the \(needed.rawValue) role; this token has \(role.rawValue)")
        }
        if needed == .operator {
            audit.notice("allowed \(request.method) \(request.uri.path) from \(client) as \(role.rawValue)")
        }
        var context = context
        context.role = role
        return try await next(request, context)
    }

    /// Changing things (creating or cancelling replays, reloading the policy) needs an operator.
    static func requiredRole(_ request: Request) -> AdminRole {
        request.method == .post ? .operator : .viewer
    }
}
