import Foundation

/// Loads a Topics directory (catalog.yaml, schemas/, policy.yaml) into a `LoadedPolicy`.
public enum TopicsDirectory {
    /// `url` is a Topics directory, or a policy file whose directory holds catalog.yaml and schemas.
    /// Throws `PolicyLoadError` carrying every diagnostic found.
    public static func load(at url: URL) throws(PolicyLoadError) -> LoadedPolicy {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        let directory = isDirectory.boolValue ? url : url.deletingLastPathComponent()
        let policyURL = isDirectory.boolValue ? url.appendingPathComponent("policy.yaml") : url
        let prefix = display(directory)
        let sink = DiagnosticSink()
        guard exists else {
            sink.error(display(url).isEmpty ? url.path : url.path, 1, 1, "no such Topics directory or policy file", hint: "pass --topics DIR pointing at a directory with catalog.yaml and policy.yaml")
            throw PolicyLoadError(diagnostics: sink.diagnostics)
        }
        let catalog = CatalogLoader(directory: directory, displayPrefix: prefix, sink: sink).load()
        let policyFile = prefix + policyURL.lastPathComponent
        var loaded: (version: String, description: String?, rules: [CompiledRule])?
        if let catalog {
            switch TopicsFile.text(policyURL) {
            case .success(let text): loaded = PolicyLoader(catalog: catalog, file: policyFile, sink: sink).load(text: text)
            case .failure(.missing): sink.error(policyFile, 1, 1, "policy file not found", hint: "create \(policyFile) (see Topics/README.md)")
            case .failure(let error): TopicsFile.report(error, file: policyFile, sink: sink)
            }
        }
        guard sink.isEmpty, let catalog, let loaded else { throw PolicyLoadError(diagnostics: sink.diagnostics) }
        return LoadedPolicy(version: loaded.version, description: loaded.description, catalog: catalog, directory: directory, rules: loaded.rules)
    }

    /// Paths in diagnostics are relative to the working directory when below it (`Topics/policy.yaml`).
    static func display(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        var path = url.standardizedFileURL.path
        if path.hasPrefix(cwd + "/") { path.removeFirst(cwd.count + 1) }
        if path == cwd { return "" }
        return path.hasSuffix("/") ? path : path + "/"
    }
}
