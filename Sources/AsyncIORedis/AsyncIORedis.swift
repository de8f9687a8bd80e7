// AsyncIORedis: a Redis client on the swift-asyncio loop, built on AsyncIO's public API and the
// sans-I/O RESPCodec (docs/decisions/0003). The talk's subscriber, and the client around it.
//
// - Connection.swift         one connection: auto-pipelined commands, cancel-safe, RESP3 handshake
// - PendingReplies.swift     the FIFO of what a connection is owed; poisoned by a caller that gives up
// - Configuration.swift      host/port/unix, AUTH, SELECT, names, timeouts; redis:// and unix:// URLs
// - Command.swift            a command and what its reply means; CommandWriter; RedisDecodable
// - Commands/                typed commands by family, as Command factories and RedisClient methods
// - Pipeline.swift           many commands, one round trip; Transaction (MULTI/EXEC/WATCH)
// - Subscriber.swift         pub/sub that owns its connection: bounded buffer, reconnect, gap markers
// - PubSubMessage.swift      one published message
// - Pool.swift               a bounded pool of connections with FIFO waiters and health checks
// - RedisError.swift         RedisError (the connection's) and RedisReplyError (the server's)
//
// Guide: Docs.docc/AsyncIORedis.md.
@_exported import RESPCodec
