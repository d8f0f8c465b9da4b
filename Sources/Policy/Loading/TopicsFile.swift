import Foundation

/// Reads files of a Topics directory with the bounds every Topics file gets: a regular file,
/// at most `InputLimits.maxTopicsFileBytes`, and (for paths the catalog names) inside the
/// Topics directory. Public for the router configuration, which gets the same read bounds.
public enum TopicsFile {
    public enum ReadError: Error, Equatable {
        case missing
        case notARegularFile
        case tooLarge(bytes: Int)
        case notUTF8
    }

    /// The bytes of `url`, refusing anything that is not a regular file of at most
    /// `maxTopicsFileBytes` (a FIFO would block the loader, /dev/zero would never end).
    public static func bytes(_ url: URL) -> Result<[UInt8], ReadError> {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path) else { return .failure(.missing) }
        guard attributes[.type] as? FileAttributeType == .typeRegular else { return .failure(.notARegularFile) }
        if let size = (attributes[.size] as? NSNumber)?.intValue, size > InputLimits.maxTopicsFileBytes { return .failure(.tooLarge(bytes: size)) }
        guard let handle = try? FileHandle(forReadingFrom: url) else { return .failure(.missing) }
        defer { try? handle.close() }
        // Read one byte more than allowed: a file that grew since the size check is still caught.
        guard let data = try? handle.read(upToCount: InputLimits.maxTopicsFileBytes + 1) else { return .success([]) }
        if data.count > InputLimits.maxTopicsFileBytes { return .failure(.tooLarge(bytes: data.count)) }
        return .success(Array(data))
    }

    /// The text of `url` (UTF-8).
    public static func text(_ url: URL) -> Result<String, ReadError> {
        bytes(url).flatMap { bytes in
            guard let text = String(validating: bytes, as: UTF8.self) else { return .failure(.notUTF8) }
            return .success(text)
        }
    }

    /// Reports a read error other than `.missing` for `file` (the caller words "not found").
    static func report(_ error: ReadError, file: String, sink: DiagnosticSink) {
        switch error {
        case .missing: sink.error(file, 1, 1, "file not found", hint: "create it or fix the path")
        case .notARegularFile: sink.error(file, 1, 1, "not a regular file", hint: "Topics files must be plain files (not directories, devices or pipes)")
        case .tooLarge(let bytes):
            sink.error(file, 1, 1, "file is \(bytes) bytes, over the limit of \(InputLimits.maxTopicsFileBytes) bytes (InputLimits.maxTopicsFileBytes)",
                       hint: "split it up or remove unused content; Topics files are hand-written and far smaller")
        case .notUTF8: sink.error(file, 1, 1, "file is not valid UTF-8", hint: "save it as UTF-8")
        }
    }

    enum PathError: Error, Equatable {
        /// Absolute, or `..` climbs above the directory (decided on the text, before touching the file system).
        case outside
        case missing
        /// Exists, but a symbolic link takes it out of the directory.
        case linksOutside
    }

    /// `relative` resolved inside `directory`: symbolic links are followed (realpath) and the
    /// result must still lie below the directory's own resolved path, compared component-wise
    /// (so `Topics-old/x` is not "inside" `Topics`).
    static func resolve(_ relative: String, in directory: URL) -> Result<URL, PathError> {
        if relative.isEmpty || relative.hasPrefix("/") || relative.hasPrefix("~") || relative.utf8.contains(0) { return .failure(.outside) }
        // Lexical check first, so a path outside is refused without revealing whether it exists.
        var depth = 0
        for component in relative.split(separator: "/", omittingEmptySubsequences: true) {
            if component == ".." { depth -= 1 } else if component != "." { depth += 1 }
            if depth < 0 { return .failure(.outside) }
        }
        let candidate = directory.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: candidate.path) else { return .failure(.missing) }
        guard let base = realPath(directory.path), let target = realPath(candidate.path) else { return .failure(.missing) }
        let baseComponents = base.split(separator: "/")
        let targetComponents = target.split(separator: "/")
        guard targetComponents.count > baseComponents.count, Array(targetComponents.prefix(baseComponents.count)) == baseComponents else {
            return .failure(.linksOutside)
        }
        return .success(URL(fileURLWithPath: target))
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
