"""aiohttp's ClientSession under the same load as http-client-bench (the peer of ours).

    python aiohttp_client.py --url URL [--concurrency 64] [--warmup 1] [--duration 5] [--uvloop]

`concurrency` coroutines each fetch URL and read the body whole, in a loop, through one
ClientSession whose connector allows `concurrency` connections; prints one JSON line in
http-client-bench's shape (requests in the measured window, its length, process CPU time).
"""

import argparse
import asyncio
import json
import resource
import time

import aiohttp


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(args):
    completed = errors = 0
    stop = False

    async def worker(session):
        nonlocal completed, errors
        while not stop:
            try:
                async with session.get(args.url) as response:
                    await response.read()
                completed += 1
            except aiohttp.ClientError:
                errors += 1

    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        workers = [asyncio.create_task(worker(session)) for _ in range(args.concurrency)]
        await asyncio.sleep(args.warmup)
        start = (completed, cpu(), time.monotonic())
        await asyncio.sleep(args.duration)
        end = (completed, cpu(), time.monotonic())
        stop = True
        await asyncio.gather(*workers)
    requests, seconds, cpu_seconds = end[0] - start[0], end[2] - start[2], end[1] - start[1]
    print(json.dumps({
        "client": "aiohttp-uvloop" if args.uvloop else "aiohttp", "requests": requests, "seconds": seconds,
        "cpu_seconds": cpu_seconds, "requests_per_s": requests / seconds,
        "cpu_us_per_request": cpu_seconds / max(requests, 1) * 1e6, "errors": errors,
        "concurrency": args.concurrency,
    }, sort_keys=True))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop
        uvloop.install()
    asyncio.run(main(args))
