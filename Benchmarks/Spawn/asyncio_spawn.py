"""The asyncio peer of spawn-bench: `count` children of `program`, `parallel` at a time.

    python asyncio_spawn.py [--program /bin/true] [--count 2000] [--parallel 1] [--uvloop]

Each of `parallel` workers runs `await asyncio.create_subprocess_exec(program)` then
`await process.wait()` until `count` children ran (standard descriptors inherited, as
spawn-bench's). Prints one JSON line in spawn-bench's shape. With --uvloop the same code runs on
uvloop's loop (libuv's spawn).
"""

import argparse
import asyncio
import json
import resource
import time


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def spawn_all(program, count, parallel):
    left = count
    failures = 0

    async def worker():
        nonlocal left, failures
        while left > 0:
            left -= 1
            process = await asyncio.create_subprocess_exec(program)
            if await process.wait() != 0:
                failures += 1

    await asyncio.gather(*(worker() for _ in range(parallel)))
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--program", default="/bin/true")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--uvloop", action="store_true")
    args = ap.parse_args()
    if args.uvloop:
        import uvloop
        runner = uvloop.run
    else:
        runner = asyncio.run
    start_time, start_cpu = time.monotonic(), cpu()
    failures = runner(spawn_all(args.program, args.count, args.parallel))
    seconds, used = time.monotonic() - start_time, cpu() - start_cpu
    print(json.dumps({"runner": "uvloop" if args.uvloop else "asyncio", "children": args.count,
                      "parallel": args.parallel, "seconds": seconds, "spawns_per_s": args.count / seconds,
                      "cpu_us_per_spawn": used / args.count * 1e6, "failures": failures}))


if __name__ == "__main__":
    main()
