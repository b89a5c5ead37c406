import Foundation
import Glibc
import IntakeRuntime
import Synchronization
import Testing

/// The crash check once stopped with "Interrupted system call" inside Foundation's
/// `FileHandle.availableData`: a child's exit interrupted a read on another child's pipe. The
/// readers the tools and tests use instead must carry on through such signals.
@Suite struct InterruptedReadTests {
    @Test func aReadInterruptedBySignalsStillReturnsTheBytes() throws {
        // A handler without SA_RESTART, as the one that interrupted the crash check: every signal
        // delivered while the reader waits makes its `read` return EINTR.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        action.sa_flags = 0
        sigemptyset(&action.sa_mask)
        var previous = sigaction()
        #expect(sigaction(SIGUSR2, &action, &previous) == 0)
        defer { _ = sigaction(SIGUSR2, &previous, nil) }

        let pipe = Pipe()
        let reader = Reader()
        let handle = pipe.fileHandleForReading
        Thread {
            reader.started.withLock { $0 = pthread_self() }
            // The test runner's threads block most signals; this one takes the signal, as the crash
            // check's threads took SIGCHLD.
            var mask = sigset_t()
            sigemptyset(&mask)
            sigaddset(&mask, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &mask, nil)
            let data = handle.readToEndOfFile()
            reader.result.withLock { $0 = data }
            reader.done.signal()
        }.start()
        while reader.started.withLock({ $0 == nil }) { usleep(1_000) }
        guard let thread = reader.started.withLock({ $0 }) else { Issue.record("no reader thread"); return }
        // Several signals while it waits; each one interrupts its read.
        for _ in 0..<5 {
            usleep(20_000)
            #expect(pthread_kill(thread, SIGUSR2) == 0)
        }
        usleep(20_000)
        pipe.fileHandleForWriting.write(Data("まだ読める\n".utf8))
        try pipe.fileHandleForWriting.close()
        reader.done.wait()
        #expect(String(decoding: reader.result.withLock { $0 }, as: UTF8.self) == "まだ読める\n")
    }
}

private final class Reader: Sendable {
    let started = Mutex<pthread_t?>(nil)
    let result = Mutex<Data>(Data())
    let done = DispatchSemaphore(value: 0)
}
