import Hummingbird
import Logging
import Policy

/// Guards the routes of one group (see `AdminRoutes`): a missing or unknown bearer token
/// gets 401, a token whose role is below `role` 403. It is attached to the routes
/// themselves, not matched against the path string, so every spelling of a path that the
/// router resolves to a protected handler (`//v1/lanes`, `/v1//lanes`) passes this check
/// first. Every refusal, and every operator action allowed, is written to the
/// `plantrouter.admin.audit` log with method, path and client: the connection's peer address,
/// and the `X-Forwarded-For` it claims (shortened, control characters dropped) when it sends one.
struct RequireRole: RouterMiddleware {
    typealias Context = AdminRequestContext

    let role: AdminRole
    let tokens: AdminTokens
    let audit: Logger

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let client = Self.client(peer: context.peer, forwardedFor: request.headers.first { $0.name.canonicalName == "x-forwarded-for" }?.value)
        let what = "\(request.method) \(request.uri.path.prefix(200))"
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            audit.warning("refused \(what) from \(client): no bearer token (401)")
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "send 'Authorization: Bearer TOKEN' with a token from the admin tokens file or \(AdminTokens.environmentVariable)")
        }
        guard let identity = tokens.identity(of: String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)) else {
            audit.warning("refused \(what) from \(client): unknown bearer token (401)")
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""], message: "the bearer token is not known; check it against the admin tokens file or \(AdminTokens.environmentVariable)")
        }
        let granted = identity.role
        guard granted >= role else {
            audit.warning("refused \(what) from \(client): role \(granted.rawValue) lacks \(role.rawValue) (403)")
            throw HTTPError(.forbidden, message: "\(what) needs the \(role.rawValue) role; this token has \(granted.rawValue)")
        }
        if role == .operator {
            audit.notice("allowed \(what) from \(client) as \(identity.name) (\(granted.rawValue))")
        }
        var context = context
        context.role = granted
        context.tokenName = identity.name
        return try await next(request, context)
    }

    /// Who sent a request, for the audit log. The peer address is what the server knows; a
    /// forwarded-for header is only what the client says, so it is labelled as such and cannot
    /// flood the log or forge a line.
    static func client(peer: String, forwardedFor: String?) -> String {
        guard let forwardedFor else { return peer }
        let printable = forwardedFor.unicodeScalars.filter { $0.properties.generalCategory != .control }
        var claimed = String(String.UnicodeScalarView(printable.prefix(InputLimits.maxLoggedForwardedFor)))
        if printable.count > InputLimits.maxLoggedForwardedFor { claimed += "…" }
        return "\(peer) (claims X-Forwarded-For: \(claimed))"
    }
}
