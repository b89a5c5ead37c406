import NIOCore

/// Runs a task's work on one NIO event loop: a connection's task is given its channel's event loop
/// as its preferred executor (`addTask(executorPreference:)`), so that reading a line, running the
/// engine step and writing the reply all happen on the thread that owns the socket. Without it every
/// turn crossed threads twice more (event loop → Swift's cooperative pool for the line, and back for
/// the reply), which cost more CPU than the turn itself (BENCHMARKS.md, "Kiosk line service").
///
/// The only other hop left in a turn is the commit: the commit thread resumes the awaiting task, whose
/// job is then enqueued here, on its event loop.
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
