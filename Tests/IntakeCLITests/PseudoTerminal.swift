import CPseudoTerminal
import Foundation
import Glibc
import Testing

/// The `intake` binary on a real pseudo-terminal, as a counselor's terminal: the test types keys
/// (Japanese text, Tab, Ctrl-C, Ctrl-D) and reads the screen.
final class PseudoTerminal {
    private(set) var master: Int32
    let pid: pid_t
    private(set) var screen = ""
    private var raw = Data()

    init(_ args: [String], in directory: URL, columns: Int = 80, rows: Int = 24, environment: [String: String] = [:]) throws {
        var name = [CChar](repeating: 0, count: 256)
        master = pt_open(&name, name.count)
        guard master >= 0 else { throw POSIXError(.ENOTTY) }
        _ = pt_set_size(master, Int32(columns), Int32(rows))
        let slave = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var env = ProcessInfo.processInfo.environment
        env["TERM"] = "xterm"
        env["LANG"] = "C.UTF-8"
        env["LC_ALL"] = "C.UTF-8"
        env["INPUTRC"] = "/dev/null"
        for (k, v) in environment { env[k] = v }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // In a new session, the first terminal opened becomes the controlling one (so Ctrl-C is SIGINT).
        posix_spawn_file_actions_addopen(&actions, 0, slave, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        posix_spawn_file_actions_addclose(&actions, master)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new session (POSIX_SPAWN_SETSID), no signal blocked or ignored as in the test's thread
        // (POSIX_SPAWN_SETSIGMASK, POSIX_SPAWN_SETSIGDEF).
        posix_spawnattr_setflags(&attributes, Int16(0x80 | 0x08 | 0x04))
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGINT, SIGHUP, SIGPIPE, SIGTERM, SIGWINCH] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        let argv = ([CLI.binary.path] + args).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(directory.path)
        let rc = posix_spawn(&child, CLI.binary.path, &actions, &attributes, argv, envp)
        FileManager.default.changeCurrentDirectoryPath(cwd)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        pid = child
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        if master >= 0 { close(master) }
    }

    /// The terminal goes away (a closed window, a dropped ssh connection).
    func hangUp() {
        close(master)
        master = -1
    }

    func type(_ text: String) {
        var bytes = Array(text.utf8)
        while !bytes.isEmpty {
            let n = write(master, bytes, bytes.count)
            if n > 0 { bytes.removeFirst(n) } else { usleep(1000) }
        }
    }

    /// Reads what the program printed until `text` shows on the screen after `from` (or time runs out).
    @discardableResult
    func waitFor(_ text: String, after from: String.Index? = nil, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            pump()
            let start = from ?? screen.startIndex
            if screen[start...].contains(text) { return true }
            var fds = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            _ = poll(&fds, 1, 50)
        }
        return false
    }

    /// Types `keys` once the program waits for input (the screen ends with its prompt), and
    /// waits for `text` to show after them. Keys typed while the program is busy could reach the
    /// terminal between two reads, in the wrong mode.
    @discardableResult
    func answer(_ keys: String, expecting text: String, timeout: Double = 10) -> Bool {
        waitForInput(timeout: timeout)
        let m = mark
        type(keys)
        return waitFor(text, after: m, timeout: timeout)
    }

    /// Waits until the screen ends with a prompt: a last line ending in a space ("> ", "理由> ",
    /// "…（はい／いいえ） ").
    @discardableResult
    func waitForInput(timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            pump()
            if let last = screen.split(separator: "\n", omittingEmptySubsequences: false).last, last.count > 1, last.hasSuffix(" ") {
                return true
            }
            var fds = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            _ = poll(&fds, 1, 20)
        }
        return false
    }

    /// Where the screen ends now (wait for text after it).
    var mark: String.Index { pump(); return screen.endIndex }

    /// Waits for the program to exit; its status, or nil when it did not.
    func exitStatus(timeout: Double = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while Date() < deadline {
            pump()
            if waitpid(pid, &status, WNOHANG) == pid { return (status >> 8) & 0xFF }
            usleep(20_000)
        }
        return nil
    }

    /// Takes what is readable; the screen is the output with terminal escapes removed and CR LF as LF.
    private func pump() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(master, &buffer, buffer.count)
            guard n > 0 else { break }
            raw.append(contentsOf: buffer[0..<n])
        }
        screen = Self.clean(String(decoding: raw, as: UTF8.self))
    }

    static func clean(_ s: String) -> String {
        var out = ""
        var it = s.unicodeScalars.makeIterator()
        while let c = it.next() {
            if c == "\u{1B}" {
                // CSI: ESC [ … final byte in @…~; other escapes: one more character.
                guard let n = it.next() else { break }
                if n == "[" {
                    while let f = it.next(), !(0x40...0x7E).contains(f.value) {}
                }
                continue
            }
            if c == "\r" || c == "\u{07}" { continue }
            out.unicodeScalars.append(c)
        }
        return out
    }
}
