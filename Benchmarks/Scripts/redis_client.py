"""The Python side of Benchmarks/Scripts/redis-bench.py: one client, one shape, one RESULT line.

    python redis_client.py --client redis-py|asyncio_redis --port P --shape SHAPE
                           [--ops N] [--duration S] [--loop asyncio|uvloop]

The shapes are RedisBench's (Examples/RedisBench/README.md): set/get-c1 (one connection, each
command awaited), set/get-c50 (50 tasks over a pool of 50), set/get-p100 (100 commands per round
trip), pubsub (a subscriber and a publisher in this loop, PUBLISH in batches of 100). It stops
after --ops operations or --duration seconds and prints `RESULT ops=<n> seconds=<s>`.
"""

import argparse
import asyncio
import time

KEY, VALUE, CHANNEL, MESSAGE, BATCH = "key:bench", "xxx", "chan:bench", "m" * 16, 100


async def redis_py(shape, port, ops, duration):
    import redis.asyncio as redis

    op, mode = (shape.split("-") + [""])[:2]
    if shape == "pubsub":
        return await redis_py_pubsub(redis, port, ops, duration)
    if mode == "c50":
        pool = redis.BlockingConnectionPool(host="127.0.0.1", port=port, max_connections=50)
        client = redis.Redis(connection_pool=pool)
    else:
        client = redis.Redis(host="127.0.0.1", port=port, single_connection_client=(mode == "c1"))
    await client.set(KEY, VALUE)

    async def batch():
        async with client.pipeline(transaction=False) as pipe:
            for _ in range(BATCH):
                pipe.get(KEY) if op == "get" else pipe.set(KEY, VALUE)
            await pipe.execute()

    result = await drive(mode, lambda: client.get(KEY) if op == "get" else client.set(KEY, VALUE), batch, ops, duration)
    await client.aclose()
    return result


async def drive(mode, one, batch, ops, duration):
    """Runs a c1, c50 or p100 shape with `one()` (a command) and `batch()` (100 in one round trip)."""
    done, start = 0, time.perf_counter()
    deadline = start + duration
    if mode == "c1":
        while done < ops and time.perf_counter() < deadline:
            for _ in range(BATCH):
                await one()
            done += BATCH
    elif mode == "c50":
        async def worker():
            nonlocal done
            while done < ops and time.perf_counter() < deadline:
                for _ in range(10):
                    await one()
                done += 10
        await asyncio.gather(*(worker() for _ in range(50)))
    else:
        while done < ops and time.perf_counter() < deadline:
            await batch()
            done += BATCH
    return done, time.perf_counter() - start


async def redis_py_pubsub(redis, port, ops, duration):
    subscriber, publisher = redis.Redis(port=port), redis.Redis(port=port)
    pubsub = subscriber.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(CHANNEL)
    while (await pubsub.get_message(timeout=1.0)) is not None:
        pass
    received, start = 0, time.perf_counter()
    last = start

    async def reader():
        nonlocal received, last
        async for message in pubsub.listen():
            if message["type"] == "message":
                received += 1
                last = time.perf_counter()
                if received >= ops:
                    return

    task = asyncio.ensure_future(reader())
    sent = await publish_batches(lambda: publisher.pipeline(transaction=False), ops, start + duration)
    await settle(task, lambda: received, sent)
    return received, last - start


async def publish_batches(make_pipeline, ops, deadline):
    sent = 0
    while sent < ops and time.perf_counter() < deadline:
        pipe = make_pipeline()
        count = min(BATCH, ops - sent)
        for _ in range(count):
            pipe.publish(CHANNEL, MESSAGE)
        await pipe.execute()
        sent += count
    return sent


async def settle(task, received, sent):
    """Waits (5 s at most) for the subscriber to have every message sent, then stops it."""
    give_up = time.perf_counter() + 5
    while received() < sent and not task.done() and time.perf_counter() < give_up:
        await asyncio.sleep(0.001)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def asyncio_redis_client(shape, port, ops, duration):
    import asyncio_redis

    op, mode = (shape.split("-") + [""])[:2]
    if shape == "pubsub":
        subscriber_connection = await asyncio_redis.Connection.create(port=port)
        publisher = await asyncio_redis.Connection.create(port=port)
        subscriber = await subscriber_connection.start_subscribe()
        await subscriber.subscribe([CHANNEL])
        received, start = 0, time.perf_counter()
        last = start

        async def reader():
            nonlocal received, last
            while received < ops:
                await subscriber.next_published()
                received += 1
                last = time.perf_counter()

        task = asyncio.ensure_future(reader())
        sent, deadline = 0, start + duration
        while sent < ops and time.perf_counter() < deadline:
            count = min(BATCH, ops - sent)
            await asyncio.gather(*(publisher.publish(CHANNEL, MESSAGE) for _ in range(count)))
            sent += count
        await settle(task, lambda: received, sent)
        return received, last - start
    if mode == "c50":
        client = await asyncio_redis.Pool.create(port=port, poolsize=50)
    else:
        client = await asyncio_redis.Connection.create(port=port)
    await client.set(KEY, VALUE)

    def one():
        return client.get(KEY) if op == "get" else client.set(KEY, VALUE)

    async def batch():
        # asyncio_redis writes commands issued without an await in between back to back on its
        # connection: 100 gathered calls are its pipeline.
        await asyncio.gather(*(one() for _ in range(BATCH)))

    result = await drive(mode, one, batch, ops, duration)
    client.close()
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--client", choices=["redis-py", "asyncio_redis"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--shape", required=True)
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop
        uvloop.install()
    run = redis_py if args.client == "redis-py" else asyncio_redis_client
    ops, seconds = asyncio.run(run(args.shape, args.port, args.ops, args.duration))
    print(f"RESULT ops={ops} seconds={seconds:.4f}")


if __name__ == "__main__":
    main()
