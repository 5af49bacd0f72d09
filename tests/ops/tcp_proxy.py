"""A small round-robin TCP proxy on loopback for the multi-process test (HTTP and websockets pass through).

Each new client connection goes to the next backend that accepts a connection, so when one API
process dies its clients' reconnects land on the other one, as behind HAProxy or a cloud load balancer.

    async with TcpProxy([("127.0.0.1", 8001), ("127.0.0.1", 8002)]) as url: ...
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType


class TcpProxy:
    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self.connections: list[tuple[str, int]] = []  # which backend each client connection reached
        self._next = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
                        ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    async def _connect(self) -> tuple[tuple[str, int], asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in range(len(self.backends)):
            backend = self.backends[self._next % len(self.backends)]
            self._next += 1
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.wait_for(asyncio.open_connection(*backend), 2.0)
                return backend, reader, writer
        return None

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        found = await self._connect()
        if found is None:
            client_w.close()
            return
        backend, server_r, server_w = found
        self.connections.append(backend)
        pipes = [asyncio.create_task(self._pipe(client_r, server_w)),
                 asyncio.create_task(self._pipe(server_r, client_w))]
        self._pipes.update(pipes)
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for task in pipes:
            task.cancel()
            self._pipes.discard(task)
        for writer in (client_w, server_w):
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
