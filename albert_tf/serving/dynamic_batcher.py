"""Dynamic batching: requests queue per model and run together, each answer back to its caller.

One `DynamicBatcher` per served model. A request submits its instances and awaits their answers;
the batcher's loop takes the oldest queued instances, runs them as one batch in its worker thread
(the model is called from one thread at a time; it uses the cores itself), and hands each request its
answers. Requests that arrive while a batch runs wait for the next one, which is where batches grow
under load. Before a batch that is not full, the loop waits up to `max_delay` for more, but only when
the previous batch had company (more than one instance): a lone client is not made to wait for
others who are not there. The queue is
bounded in instances: a request that would overflow it is refused at once (`QueueFull`, answered 429
with Retry-After) rather than waiting behind work it cannot finish in time; a request whose deadline
passes while it waits is answered `DeadlineExceeded` (504) and its instances are dropped unrun.
"""

import asyncio
import concurrent.futures
import dataclasses
import time


class QueueFull(Exception):
    """The model's queue holds too many instances; retry after `retry_after` seconds."""

    def __init__(self, queued, limit, retry_after):
        super().__init__(f"the queue holds {queued} instances (at most {limit}); retry in {retry_after} s")
        self.retry_after = retry_after


class DeadlineExceeded(Exception):
    """The request waited longer than its deadline."""


@dataclasses.dataclass
class _Request:
    instances: list
    deadline: float  # time.monotonic() by which the answers are due
    future: asyncio.Future
    answers: list = dataclasses.field(default_factory=list)
    taken: int = 0  # instances handed to a batch so far


class DynamicBatcher:
    """Runs `run_batch(instances) -> answers` (one answer per instance, in order) on batches of queued instances.

    Args:
        run_batch: the model call; runs in the batcher's worker thread.
        max_batch_size: most instances in one batch (1: no batching).
        max_delay: seconds the first queued instance may wait for others to join its batch.
        max_queue: most instances waiting at once; more is refused with `QueueFull`.
        on_batch: called with each batch's size after it ran (metrics), in the event loop.
    """

    def __init__(self, run_batch, max_batch_size=32, max_delay=0.005, max_queue=1024, on_batch=None):
        self.run_batch = run_batch
        self.max_batch_size = max_batch_size
        self.max_delay = max_delay
        self.max_queue = max_queue
        self.on_batch = on_batch
        self._pending = []  # requests with instances not yet taken, oldest first
        self._queued = 0
        self._wake = None
        self._loop_task = None
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="batcher")
        self._last_batch_seconds = 0.05
        self._last_batch_size = 1

    @property
    def queued(self):
        """Instances waiting to run."""
        return self._queued

    def start(self):
        self._wake = asyncio.Event()
        self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self):
        """Runs what is queued, then stops the loop and the worker thread."""
        while self._pending:
            await asyncio.sleep(self.max_delay or 0.001)
        if self._loop_task is not None:
            self._loop_task.cancel()
            try:
                await self._loop_task
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=True)

    async def submit(self, instances, timeout):
        """The answers to `instances` (a list), in order; raises `QueueFull` or `DeadlineExceeded`."""
        if self._queued + len(instances) > self.max_queue:
            batches_ahead = max(1, -(-self._queued // self.max_batch_size))
            raise QueueFull(self._queued, self.max_queue, max(1, round(batches_ahead * self._last_batch_seconds)))
        request = _Request(list(instances), time.monotonic() + timeout, asyncio.get_running_loop().create_future())
        self._pending.append(request)
        self._queued += len(instances)
        self._wake.set()
        try:
            return await asyncio.wait_for(asyncio.shield(request.future), timeout)
        except asyncio.TimeoutError:
            self._drop(request)
            raise DeadlineExceeded(f"no answer within {timeout:.3f} s") from None

    def _drop(self, request):
        if request in self._pending:
            self._pending.remove(request)
            self._queued -= len(request.instances) - request.taken

    def _take_batch(self):
        """Up to max_batch_size instances from the oldest requests: [(request, instance)]."""
        batch = []
        now = time.monotonic()
        while self._pending and len(batch) < self.max_batch_size:
            request = self._pending[0]
            if request.deadline <= now or request.future.done():
                self._drop(request)
                continue
            count = min(self.max_batch_size - len(batch), len(request.instances) - request.taken)
            batch.extend((request, instance) for instance in request.instances[request.taken:request.taken + count])
            request.taken += count
            self._queued -= count
            if request.taken == len(request.instances):
                self._pending.pop(0)
        return batch

    async def _run(self):
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._queued < self.max_batch_size and self.max_delay > 0 and self._last_batch_size > 1:
                first_wait = self._pending[0].deadline  # never wait past the oldest deadline
                await asyncio.sleep(max(0.0, min(self.max_delay, first_wait - time.monotonic())))
            batch = self._take_batch()
            if not batch:
                continue
            started = time.monotonic()
            try:
                answers = await loop.run_in_executor(self._executor, self.run_batch, [i for _, i in batch])
                error = None
            except Exception as failure:  # the model failed: every caller in the batch hears it
                answers, error = None, failure
            self._last_batch_seconds = time.monotonic() - started
            self._last_batch_size = len(batch)
            if self.on_batch is not None:
                self.on_batch(len(batch))
            self._deliver(batch, answers, error)

    @staticmethod
    def _deliver(batch, answers, error):
        for index, (request, _) in enumerate(batch):
            if request.future.done():
                continue
            if error is not None:
                request.future.set_exception(error)
                continue
            request.answers.append(answers[index])
            if len(request.answers) == len(request.instances):
                request.future.set_result(request.answers)
