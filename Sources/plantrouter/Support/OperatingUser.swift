import Foundation

/// Who runs this process, for a replay job's `requestedBy`: the account of the effective
/// user id from the password database (getpwuid, as `id -un`), then $USER or $LOGNAME, then
/// `uid <n>`. Containers, systemd units and Kubernetes Jobs often have no $USER.
enum OperatingUser {
    static var name: String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name, let text = String(validatingCString: name), !text.isEmpty {
            return text
        }
        let environment = ProcessInfo.processInfo.environment
        if let name = environment["USER"] ?? environment["LOGNAME"], !name.isEmpty { return name }
        return "uid \(geteuid())"
    }
}
