import Foundation
import Glibc

/// A process started with posix_spawn so that one more descriptor than stdin, stdout and
/// stderr can be handed over (as fd 3, where systemd puts the first socket); Foundation's
/// Process closes all others. Stopped with SIGTERM and reaped by ``stop()``.
final class SpawnedProcess {
    let pid: pid_t

    init(_ arguments: [String], environment: [String: String] = [:], passing descriptor: CInt) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, descriptor, 3)
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var child: pid_t = 0
        let status = posix_spawn(&child, arguments[0], &actions, nil, argv, envp)
        guard status == 0 else { throw TestFailure("posix_spawn \(arguments[0]): \(status)") }
        pid = child
    }

    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}
