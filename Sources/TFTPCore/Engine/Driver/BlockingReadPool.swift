import Dispatch
import NIOConcurrencyHelpers
import NIOCore

/// Reads that must wait for the device, done on a few helper threads so that an engine
/// thread never blocks on a disk (docs/architecture.md, "Cold files").
///
/// The engine first reads with RWF_NOWAIT; only when the bytes are not in the page cache
/// does the read come here. The helper reads into the transfer's ``FrameBuffer`` and posts
/// the completion to the engine thread's mailbox; meanwhile that thread serves its other
/// transfers. On this project's test machine, a disk throttled to 100 reads a second held
/// every transfer of a thread for up to 300 ms per cold read before this pool existed.
final class BlockingReadPool: Sendable {
    /// One read: what, where to, and whom to tell.
    struct Job: Sendable {
        var content: ContentReader
        var buffer: FrameBuffer
        var frames: ContentFile.Frames
        var offset: Int64
        /// Whether the file must still be the version that was opened once read.
        var verify: Bool
        var mailbox: EngineMailbox
        var slot: Int
        var generation: UInt32
    }

    private let queue = NIOLockedValueBox<(jobs: CircularBuffer<Job>, stopping: Bool)>((CircularBuffer(), false))
    private let ready = DispatchSemaphore(value: 0)
    private let threads: Int

    /// Starts `threads` readers (several, so a device with a queue serves reads in parallel).
    init(threads: Int) {
        self.threads = max(1, threads)
        for _ in 0..<self.threads {
            PosixThread.spawn(name: "tftpd-reader") { [self] in work() }
        }
    }

    /// Queues a read; its completion goes to `job.mailbox` as `.readCompleted`.
    func submit(_ job: Job) {
        queue.withLockedValue { $0.jobs.append(job) }
        ready.signal()
    }

    /// Lets the readers finish what is queued and end.
    func stop() {
        queue.withLockedValue { $0.stopping = true }
        for _ in 0..<threads { ready.signal() }
    }

    private func work() {
        while true {
            ready.wait()
            let (job, stopping) = queue.withLockedValue { state in (state.jobs.popFirst(), state.stopping) }
            guard let job else {
                if stopping { return }
                continue
            }
            var failure: ContentError?
            do {
                try job.content.readFrames(
                    into: job.buffer.base, frames: job.frames, offset: job.offset, verify: job.verify)
            } catch {
                failure = error
            }
            job.mailbox.post(.readCompleted(slot: job.slot, generation: job.generation, failure: failure))
        }
    }
}
