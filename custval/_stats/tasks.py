"""Seeded Monte Carlo tasks run serially, on a ``concurrent.futures`` executor or on Dask (private).

A simulation of ``replications`` draws is cut into tasks of ``chunk`` draws.  Task ``t`` gets
the ``t``-th child of ``numpy.random.SeedSequence(seed)`` (:meth:`~numpy.random.SeedSequence.spawn`),
so its random numbers depend only on ``(seed, t)``: the same seed gives bit-identical results
whatever runs the tasks (serially, threads, processes, a Dask cluster) and however many workers
there are.  Results are put back in task order.  Each task pins BLAS to one thread
(``threadpoolctl``), so that workers do not oversubscribe the cores and a task's arithmetic
does not depend on how many threads the BLAS would otherwise use.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..exceptions import SpecificationError

#: replications per task: large enough that scheduling is cheap next to the fits, small
#: enough that two workers share the load evenly
DEFAULT_CHUNK = 25


def task_plan(replications: int, chunk: int = DEFAULT_CHUNK) -> list[int]:
    """The number of replications of each task (all ``chunk`` but the last)."""
    if not isinstance(replications, (int, np.integer)) or isinstance(replications, bool) or replications < 1:
        raise SpecificationError(f"replications must be a positive integer, got {replications!r}")
    if not isinstance(chunk, (int, np.integer)) or isinstance(chunk, bool) or chunk < 1:
        raise SpecificationError(f"chunk (replications per task) must be a positive integer, got {chunk!r}")
    full, rest = divmod(int(replications), int(chunk))
    return [chunk] * full + ([rest] if rest else [])


def task_seeds(seed: int, n_tasks: int) -> list[np.random.SeedSequence]:
    """One independent child seed per task (``SeedSequence(seed).spawn(n_tasks)``)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise SpecificationError(f"seed must be an integer, got {seed!r}")
    return np.random.SeedSequence(int(seed)).spawn(n_tasks)


def _single_threaded(fn: Callable, args: tuple) -> Any:
    """``fn(*args)`` with BLAS pinned to one thread (what every task runs)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return fn(*args)
    with threadpool_limits(limits=1, user_api="blas"):
        return fn(*args)


def as_executor(executor):
    """``None`` (serial), a ``concurrent.futures.Executor``, or a ``dask.distributed.Client``
    (through its :meth:`get_executor`), checked."""
    if executor is None:
        return None
    if hasattr(executor, "get_executor") and hasattr(executor, "gather"):  # a dask.distributed Client
        return executor.get_executor()
    if callable(getattr(executor, "submit", None)):
        return executor
    raise SpecificationError(
        "executor must be None (serial), a concurrent.futures.Executor (ThreadPoolExecutor, "
        f"ProcessPoolExecutor) or a dask.distributed.Client; got {type(executor).__name__}")


def run_tasks(fn: Callable, args: Sequence[tuple], *, executor=None, progress: bool = True,
              desc: str = "simulation", weights: Sequence[int] | None = None) -> list:
    """``[fn(*a) for a in args]``, serially or on ``executor``, in the order of ``args``.

    A progress bar (``tqdm.auto``) counts ``weights`` (the replications of each task) as tasks
    finish.  Ctrl-C (KeyboardInterrupt) cancels the tasks not yet started and is raised again.
    ``fn`` must be a module-level function (process pools and Dask pickle it).
    """
    args = list(args)
    weights = list(weights) if weights is not None else [1] * len(args)
    # BLAS limits are process-wide: tasks on threads of this process (a ThreadPoolExecutor, a Dask
    # client with processes=False) would otherwise restore each other's limit while still running
    with _blas_limited():
        return _run(fn, args, weights, executor=executor, progress=progress, desc=desc)


def _blas_limited():
    """One BLAS thread in this process for the whole run (a no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _run(fn: Callable, args: list, weights: list, *, executor, progress: bool, desc: str) -> list:
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(sum(weights)), desc=desc, unit="rep")
    try:
        pool = as_executor(executor)
        if pool is None:
            out = []
            for a, w in zip(args, weights):
                out.append(_single_threaded(fn, a))
                if bar is not None:
                    bar.update(w)
            return out
        from concurrent.futures import as_completed

        futures = [pool.submit(_single_threaded, fn, a) for a in args]
        index = {f: i for i, f in enumerate(futures)}
        try:
            for f in as_completed(futures):
                if bar is not None:
                    bar.update(weights[index[f]])
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    finally:
        if bar is not None:
            bar.close()


_QUIET_LOCK = threading.Lock()
_QUIET_DEPTH = 0
_QUIET_SAVED: list = []


@contextlib.contextmanager
def quiet_warnings(category: type[Warning]):
    """Ignore ``category`` warnings while a task runs, safely when tasks run on several threads.

    :class:`warnings.catch_warnings` swaps the process-wide filter list, so two threads that
    enter and leave it in turn restore each other's state (a warning escapes in one, or the
    filter outlives both).  Here the first task to enter installs the filter and the last to
    leave restores the saved list.
    """
    global _QUIET_DEPTH
    with _QUIET_LOCK:
        if _QUIET_DEPTH == 0:
            _QUIET_SAVED[:] = [list(warnings.filters)]
            warnings.filterwarnings("ignore", category=category)
        _QUIET_DEPTH += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _QUIET_DEPTH -= 1
            if _QUIET_DEPTH == 0:
                warnings.filters[:] = _QUIET_SAVED.pop()
                mutated = getattr(warnings, "_filters_mutated", None)  # drop cached filter decisions
                if mutated is not None:
                    mutated()
