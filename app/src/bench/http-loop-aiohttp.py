"""The seed's pattern with aiohttp: CONCURRENCY asyncio workers GET URL back to back through one
ClientSession (kept-alive connections) for SECONDS; prints the requests completed per second."""
import asyncio
import sys
import time

import aiohttp


async def main(url, concurrency, seconds):
    done = 0
    failed = 0
    deadline = time.monotonic() + seconds

    async def worker(session):
        nonlocal done, failed
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as response:
                    await response.read()
                    if response.status == 200:
                        done += 1
                    else:
                        failed += 1
            except aiohttp.ClientError:
                failed += 1

    start = time.monotonic()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    print(f"{done / (time.monotonic() - start):.1f} {failed}")


asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
