import Admin
import Foundation
import Testing

/// The tokens file is refused when others can read it (as ssh refuses such a key), and a
/// token matches only whole, compared as SHA-256 digests so the time taken tells nothing.
struct AdminTokensTests {
    @Test func tokensFileReadableByOthersIsRefused() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "s3cret-operator: operator\n".write(toFile: file, atomically: true, encoding: .utf8)
        for mode in [0o644, 0o640, 0o604, 0o660, 0o601] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
            #expect(throws: AdminTokensError.self) { try AdminTokens.load(file: file, environment: [:]) }
            do {
                _ = try AdminTokens.load(file: file, environment: [:])
            } catch {
                #expect("\(error)".contains("chmod 600 \(file)") && "\(error)".contains(file))
            }
        }
        for mode in [0o600, 0o400] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
            let tokens = try AdminTokens.load(file: file, environment: [:])
            #expect(tokens.role(of: "s3cret-operator") == .operator)
        }
        #expect(throws: AdminTokensError.self) { try AdminTokens.load(file: file + ".missing", environment: [:]) }
    }

    @Test func tokensMatchWholeAndOnlyWhole() throws {
        let tokens = AdminTokens(["viewer-token": .viewer, "operator-token": .operator, "operator-token-2": .viewer])
        #expect(tokens.role(of: "viewer-token") == .viewer)
        #expect(tokens.role(of: "operator-token") == .operator)
        #expect(tokens.role(of: "operator-token-2") == .viewer)
        for wrong in ["", "operator-toke", "operator-token-", "OPERATOR-TOKEN", "operator-token\u{0}", String(repeating: "x", count: 100_000)] {
            #expect(tokens.role(of: wrong) == nil, "\(wrong.prefix(20))")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try #"{"": "operator"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        #expect(throws: AdminTokensError.self) { try AdminTokens.load(file: file, environment: [:]) }
    }

    /// Issue 16: tokens carry names (who created a replay); the original `token: role` form loads unchanged.
    @Test func tokensHaveNamesAndOldFilesStillLoad() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try """
            "old-form": viewer
            "named-op": { role: operator, name: alice }
            "named-viewer": { role: viewer, name: grafana.bot }
            """.write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        let tokens = try AdminTokens.load(file: file, environment: [AdminTokens.environmentVariable: "env-op=operator:ci-deploy,env-plain=viewer"])
        #expect(tokens.identity(of: "old-form") == AdminIdentity(role: .viewer))
        #expect(tokens.identity(of: "old-form")?.name == "unnamed-viewer")
        #expect(tokens.identity(of: "named-op") == AdminIdentity(role: .operator, name: "alice"))
        #expect(tokens.identity(of: "named-viewer")?.name == "grafana.bot")
        #expect(tokens.identity(of: "env-op") == AdminIdentity(role: .operator, name: "ci-deploy"))
        #expect(tokens.identity(of: "env-plain")?.role == .viewer)

        for bad in [#"{"t": {"role": "operator", "nmae": "alice"}}"#, #"{"t": {"name": "alice"}}"#, #"{"t": {"role": "operator", "name": "a b"}}"#] {
            try bad.write(toFile: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
            #expect(throws: AdminTokensError.self, "\(bad)") { try AdminTokens.load(file: file, environment: [:]) }
        }
    }
}
