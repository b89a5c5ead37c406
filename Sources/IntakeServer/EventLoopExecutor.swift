import NIOCore

/// Runs a task's work on one NIO event loop: a connection's task can be given its channel's event
/// loop as its preferred executor (`addTask(executorPreference:)`), so that reading a line, running
/// the engine step and writing the reply all happen on the thread that owns the socket, without
/// crossing to Swift's cooperative pool and back. Measured on this machine it did not pay
/// (`ServerConfiguration.turnsOnEventLoop`, BENCHMARKS.md): the engine step then competes with the
/// socket work on the two event loops while the pool's threads sit idle.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
