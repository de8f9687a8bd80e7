/// AsyncIO: Python's asyncio in Swift — an epoll event loop that is Swift's executor,
/// Futures and Tasks with asyncio's semantics, Transports, Protocols and Streams.
