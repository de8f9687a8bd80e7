import CAsyncIOShims
import Glibc

/// What a loop's transports share: the read buffer every socket transport reads into, and the
/// loop's signal handlers.
///
/// One per loop (`LoopCore.io`, made on first use), touched on the loop thread only. The read
/// buffer is lent to one protocol at a time, for the duration of one `dataReceived` call: the loop
/// dispatches readiness one descriptor after another and never reads while a protocol runs.
final class LoopIOState {
    /// The size of the shared read buffer, asyncio's `max_size` (256 KiB there; DESIGN §3 picks 64 KiB).
    static let readBufferSize = 64 * 1024

    // SAFETY: allocated once here, freed in deinit, used only on the loop thread (see above).
    let readBuffer: UnsafeMutableRawBufferPointer

    /// Signal handling state, made by the first `addSignalHandler`.
    var signals: SignalState?

    /// The children started on this loop and not reaped yet, by pid (Subprocess/).
    var children: [Int32: ChildProcessTransport] = [:]

    init() {
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
        signals?.release()
    }
}
