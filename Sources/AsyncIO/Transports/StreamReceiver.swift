/// The protocol a stream transport feeds, sorted by how it takes bytes: plain (bytes handed over
/// in `dataReceived`) or buffered (read straight into the buffer it lends).
///
/// A protocol factory returns `any StreamingProtocol`; a transport decides once, when the
/// connection is made, which way it delivers, and keeps the answer instead of casting on every
/// read. The socket transports do that, and so does a layer between a transport and the
/// application's protocol (`AsyncIOTLS` hands its plaintext to either kind through this).
/// A protocol that conforms to both is buffered, as asyncio prefers `BufferedProtocol`.
public enum StreamReceiver {
    /// A protocol whose `dataReceived` is given the bytes (asyncio's `Protocol`).
    case plain(any ConnectionProtocol)
    /// A protocol that lends a buffer to read into (asyncio's `BufferedProtocol`).
    case buffered(any BufferedConnectionProtocol)

    /// Sorts a protocol made by a factory; nil if it is neither kind.
    public init?(_ proto: any StreamingProtocol) {
        if let buffered = proto as? any BufferedConnectionProtocol {
            self = .buffered(buffered)
        } else if let plain = proto as? any ConnectionProtocol {
            self = .plain(plain)
        } else {
            return nil
        }
    }

    /// The protocol, for the callbacks both kinds share (`connectionMade`, `eofReceived`,
    /// `connectionLost`, `pauseWriting`, `resumeWriting`).
    public var base: any StreamingProtocol {
        switch self {
        case .plain(let proto): proto
        case .buffered(let proto): proto
        }
    }
}
