import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads from a child process's pipe that survive a signal.
///
/// Foundation's `FileHandle.availableData` and `readDataToEndOfFile()` trap when `read` returns
/// `EINTR`, and a process that starts and reaps children gets interrupted reads (a child's exit is a
/// `SIGCHLD`, handled by the dispatch source `Process` installs). The crash check, which kills and
/// restarts servers all through its run, was stopped that way once. These retry the interrupted read.
extension FileHandle {
    /// Blocks until some bytes are there and returns them; empty at end of file (or on a read error).
    public func readAvailable() -> Data {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fileDescriptor, $0.baseAddress, $0.count) }
            if n > 0 { return Data(buffer[0..<n]) }
            if n < 0 && errno == EINTR { continue }
            return Data()
        }
    }

    /// Everything until end of file.
    public func readToEndOfFile() -> Data {
        var data = Data()
        while true {
            let chunk = readAvailable()
            if chunk.isEmpty { return data }
            data.append(chunk)
        }
    }
}
