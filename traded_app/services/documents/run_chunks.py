"""An invoice run's PDFs rendered by whichever queue workers are free, a chunk at a time.

The run prepares each batch in its own transaction (numbers taken in order, rows built) and
stores, inserts and commits the batch itself, as it always has. Only the rendering, the slow
part, which needs nothing but each document's frozen DocumentData, is shared: `SharedRender`
puts each chunk of a batch's data in the queue's store under a key of its own and queues a
`render_chunk` job for it. A free worker takes the chunk (taking a key is one atomic step in
every store, so exactly one worker has it), renders its PDFs and puts the bytes back; the run's
own worker takes chunks in the same way, then collects what the others rendered. So two workers
render a run in about half the time of one, and the run is the same as if it rendered alone:

- nothing here touches the database (on SQLite the run holds the write lock for its batch; a
  helper that read would wait for it);
- a worker killed holding a chunk reports no more progress on it; once it has been silent for
  `STALE_AFTER_SECONDS`, the run renders that chunk itself, and anything the lost worker puts
  back later is never read. The numbers are the run's, so nothing can be duplicated or skipped;
- the run's own worker killed: its batch rolls back (its numbers return) and the next run, which
  takes over, shares its own chunks under new keys; what was left in the store is never read;
- no other worker free (one worker, or the CLI with none running): the run renders every chunk
  itself, and the jobs it queued find their chunk gone and end at once;
- the store not answering when a chunk is shared or collected: the run renders it itself.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Future
from dataclasses import dataclass

from traded_app.services.documents import pdf
from traded_app.services.documents.document_data import DocumentData
from traded_app.services.platform import jobs

log = logging.getLogger(__name__)

# Two PDFs a chunk: small enough that two workers finish a batch nearly together, large enough
# that the store's few steps per chunk cost little beside rendering.
CHUNK_SIZE = 2
# A worker holding a chunk says so after each PDF; silent this long, it is taken to be lost.
STALE_AFTER_SECONDS = 30.0
FIRST_LOOK_SECONDS, LONGEST_LOOK_SECONDS = 0.01, 0.2  # between looks for others' chunks

Submit = Callable[[DocumentData], "Future[bytes]"]


@dataclass(frozen=True)
class Rendered:
    """One document's PDF, or why it could not be made."""

    content: bytes | None
    error: str = ""


def describe(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return f"{type(error).__name__}: {text}"[:1000]


def _key(kind: str, token: str, index: int) -> str:
    return f"invoice-run-{kind}:{token}:{index}"


@jobs.job(name="documents.render_chunk")
def render_chunk(token: str, index: int) -> None:
    """A free worker renders one chunk of a run's batch, unless someone has taken it already."""
    chunk = jobs.take(_key("chunk", token, index))
    if chunk is None:
        return
    rendered: list[Rendered] = []
    for data in chunk:
        jobs.share(_key("alive", token, index), time.time())
        try:
            rendered.append(Rendered(pdf.render(data)))
        except Exception as error:
            rendered.append(Rendered(None, describe(error)))
    jobs.share(_key("done", token, index), rendered)


class SharedRender:
    """One batch's rendering: `add` each document's data as it is prepared (a chunk is shared as
    soon as it is full, so others start while the run prepares the rest), then `rendered()`."""

    def __init__(self, submit: Submit) -> None:
        self.token = uuid.uuid4().hex
        self.submit = submit  # how the run renders here (in this thread, or its own pool)
        self.chunk_size = CHUNK_SIZE
        self.stale_after = STALE_AFTER_SECONDS
        self.chunks: list[list[DocumentData]] = []
        self.filling: list[DocumentData] = []
        self.kept: set[int] = set()  # chunks the store would not take: rendered here
        self.results: dict[int, list[Rendered]] = {}

    def add(self, data: DocumentData) -> None:
        self.filling.append(data)
        if len(self.filling) >= self.chunk_size:
            self._share_filling()

    def _share_filling(self) -> None:
        if not self.filling:
            return
        index = len(self.chunks)
        self.chunks.append(self.filling)
        self.filling = []
        try:
            jobs.share(_key("chunk", self.token, index), self.chunks[index])
            render_chunk(self.token, index)
        except Exception as error:  # any store: redis, sqlite3 and OS errors differ
            log.warning("Invoice run chunk rendered by the run itself: %s", describe(error))
            self.kept.add(index)

    def rendered(self) -> list[Rendered]:
        """Every document's PDF, in the order added: the chunks no one has taken rendered here,
        then those others took collected as they finish."""
        self._share_filling()
        for index, chunk in enumerate(self.chunks):
            if self._take(index):
                self.results[index] = self._render_here(chunk)
        self._collect()
        return [each for index in range(len(self.chunks)) for each in self.results[index]]

    def _take(self, index: int) -> bool:
        if index in self.kept:
            return True
        try:
            return jobs.take(_key("chunk", self.token, index)) is not None
        except Exception as error:
            log.warning("Invoice run chunk rendered by the run itself: %s", describe(error))
            return True

    def _render_here(self, chunk: list[DocumentData]) -> list[Rendered]:
        futures = [self.submit(data) for data in chunk]
        rendered: list[Rendered] = []
        for future in futures:
            try:
                rendered.append(Rendered(future.result()))
            except BrokenExecutor:
                raise  # the run's pool itself is gone: the run stops, the next run finishes
            except Exception as error:
                rendered.append(Rendered(None, describe(error)))
        return rendered

    def _collect(self) -> None:
        """Wait for the chunks other workers took, in order; render here any whose worker has
        fallen silent. One look at the store at a time (a key's presence, not its PDFs)."""
        others = [index for index in range(len(self.chunks)) if index not in self.results]
        for index in others:
            self.results[index] = self._wait_for(index)
        self._forget(others)

    def _wait_for(self, index: int) -> list[Rendered]:
        since, pause = time.time(), FIRST_LOOK_SECONDS
        done_key = _key("done", self.token, index)
        while True:
            try:
                done = jobs.take(done_key) if jobs.has(done_key) else None
                if done is not None:
                    return list(done)
                if time.time() - since > self.stale_after:
                    alive = jobs.peek(_key("alive", self.token, index)) or 0.0
                    since = max(since, alive)
            except Exception as error:  # any store: redis, sqlite3 and OS errors differ
                log.warning("Invoice run chunk rendered by the run itself: %s", describe(error))
                return self._render_here(self.chunks[index])
            if time.time() - since > self.stale_after:
                log.warning("Invoice run chunk %s:%s lost with its worker", self.token, index)
                return self._render_here(self.chunks[index])
            time.sleep(pause)
            pause = min(pause * 1.5, LONGEST_LOOK_SECONDS)

    def _forget(self, others: list[int]) -> None:
        """Clear the store of the progress marks of the chunks others took (the chunks and their
        results are taken already)."""
        for index in others:
            try:
                jobs.take(_key("alive", self.token, index))
            except Exception:
                return
