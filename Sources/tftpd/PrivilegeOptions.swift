import ArgumentParser

/// Who serves once the sockets are bound (``PrivilegePlan``).
struct PrivilegeOptions: ParsableArguments {
    @Option(help: "After binding, serve as this user and its groups (needs root to start).")
    var user: String?

    @Flag(help: "Allow serving as root when started as root without --user (logged as a warning).")
    var allowRoot = false
}
