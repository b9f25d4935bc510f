"""Dask distributed executor: tasks on a Dask cluster, each simulation in a child process of its worker.

Isolation
---------
libsumo holds one simulation per process and a SUMO abort ends the process
that runs it.  A Dask worker therefore never simulates itself: it keeps one
long-lived *simulation process* per worker thread (started with
``subprocess``, so it works in Dask's daemonic worker processes, where
``multiprocessing`` may not start children) and sends it each task over a
pipe.  If that process dies (SIGKILL, SUMO abort), the Dask worker survives,
starts a fresh one for the next task and reports the death; the client
retries the task.  A Dask worker that is lost itself (killed, its machine
gone) surfaces as :class:`distributed.KilledWorker` and is retried the same
way.

Files
-----
Tasks carry the paths of the network, route and additional files
(:class:`~signalopt.prepare.Prepared`).  ``files="shared"`` sends the paths
as they are: right for a :class:`~distributed.LocalCluster` (the default
without a scheduler address) and for clusters on a shared file system
mounted at the same path.  ``files="upload"`` (the default with a scheduler
address) reads every file the tasks name, broadcasts the contents to the
workers once (``client.scatter``, content-keyed and cached) and rewrites the
paths on the worker to copies in its local directory.  Files that these
files themselves refer to (e.g. an ``<include>`` in an additional file) are
not followed.

Retries
-------
The cluster this module starts sets the scheduler's ``allowed-failures`` to
0, so every lost worker reaches the client, which charges it to the task
and resubmits up to ``retries`` times.  A remote scheduler keeps its own
setting (Dask's default reschedules a task on 3 lost workers before giving
up); start it with ``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0`` for
the same accounting.  Workers must run the same signalopt and SUMO versions
as the client.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import InputError, SignaloptError
from .base import Outcome, describe_error, exit_with_parent
from .._sumo_run import Task
from ..prepare import Prepared

FILES_MODES = ("auto", "shared", "upload")

# ------------------------------------------------------------------ the simulation process (child of a worker)

_HEADER = struct.Struct(">Q")


def _write_msg(fh: Any, data: bytes) -> None:
    fh.write(_HEADER.pack(len(data)) + data)
    fh.flush()


def _read_exact(fh: Any, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = fh.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _read_msg(fh: Any) -> bytes | None:
    head = _read_exact(fh, _HEADER.size)
    if head is None:
        return None
    return _read_exact(fh, _HEADER.unpack(head)[0])


def _child_main() -> None:  # pragma: no cover - runs in the simulation process
    """Loop of the simulation process: read (fn, task), run it, write a tagged reply.

    Messages come only from the Dask worker that started this process (its
    own pickles of our tasks), never from user files.
    """
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # whatever SUMO prints goes to stderr, never into the reply pipe
    inp = os.fdopen(os.dup(0), "rb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    exit_with_parent(os.getppid(), poll_s=0.5)  # the worker died mid-task: stop rather than simulate for nobody
    while True:
        msg = _read_msg(inp)
        if msg is None:
            return
        fn, task = pickle.loads(msg)
        try:
            reply: tuple = ("ok", fn(task))
        except SignaloptError as exc:  # deterministic (bad plan, SUMO error on this input): no retry
            reply = ("error", describe_error(exc), True)
        except BaseException as exc:  # noqa: BLE001 - reported to the client
            reply = ("error", describe_error(exc), False)
        try:
            data = pickle.dumps(reply)
        except Exception as exc:  # noqa: BLE001
            data = pickle.dumps(("error", f"result cannot be sent back: {describe_error(exc)}", True))
        _write_msg(out, data)


_CHILD_CODE = "from signalopt.executors.dask import _child_main; _child_main()"


class _ChildDied(Exception):
    pass


def _signal_name(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def _dask_trim_threshold() -> object:
    """The ``MALLOC_TRIM_THRESHOLD_`` Dask's nanny gives its workers (None if it sets none)."""
    try:
        import dask

        return (dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {}).get(
            "MALLOC_TRIM_THRESHOLD_")
    except ImportError:
        return None


class _Sandbox:
    """One simulation process, reused task after task until it dies."""

    def __init__(self) -> None:
        env = dict(os.environ)
        # the child imports what the worker imports (signalopt, the task function's module)
        paths = [p for p in sys.path if p]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 for its workers (distributed.nanny.pre-spawn-environ);
        # inherited, it makes glibc hand memory back after nearly every free, and SUMO, which allocates and
        # frees per vehicle and step, slows down by tens of per cent.  The simulation gets glibc's default.
        if env.get("MALLOC_TRIM_THRESHOLD_") == str(_dask_trim_threshold()):
            del env["MALLOC_TRIM_THRESHOLD_"]
        self.proc = subprocess.Popen([sys.executable, "-c", _CHILD_CODE], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env, close_fds=True)

    def run(self, fn: Callable[[Any], Any], task: Any) -> tuple:
        import cloudpickle

        payload = cloudpickle.dumps((fn, task))
        try:
            _write_msg(self.proc.stdin, payload)
            reply = _read_msg(self.proc.stdout)
        except OSError:
            reply = None
        if reply is None:
            try:
                code = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait()
            self.close()
            raise _ChildDied(f"simulation process {_signal_name(code)}")
        return pickle.loads(reply)  # noqa: S301 - our own child's reply

    def close(self) -> None:
        for fh in (self.proc.stdin, self.proc.stdout):
            try:
                fh.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


_IDLE: list[_Sandbox] = []
_IDLE_LOCK = threading.Lock()


def _acquire() -> _Sandbox:
    with _IDLE_LOCK:
        while _IDLE:
            box = _IDLE.pop()
            if box.proc.poll() is None:
                return box
    return _Sandbox()


def _release(box: _Sandbox) -> None:
    with _IDLE_LOCK:
        _IDLE.append(box)


# ------------------------------------------------------------------ files reaching the workers


def _prepareds(obj: Any) -> list[Any]:
    """Every :class:`Prepared` inside a task (a Task, or tuples/lists holding them)."""
    if isinstance(obj, Prepared):
        return [obj]
    if isinstance(obj, Task):
        return [obj.prepared]
    if isinstance(obj, (tuple, list)):
        return [p for o in obj for p in _prepareds(o)]
    return []


def _file_paths(prepared: Any) -> list[str]:
    return [prepared.network_path, *prepared.route_files, *prepared.additional_files]


def _localise(obj: Any, mapping: dict[str, str]) -> Any:
    """``obj`` with every Prepared path replaced by its copy on this worker."""
    if isinstance(obj, Prepared):
        return replace(obj, network_path=mapping.get(obj.network_path, obj.network_path),
                       route_files=tuple(mapping.get(p, p) for p in obj.route_files),
                       additional_files=tuple(mapping.get(p, p) for p in obj.additional_files))
    if isinstance(obj, Task):
        return replace(obj, prepared=_localise(obj.prepared, mapping), keep_dir=None)
    if isinstance(obj, tuple):
        return tuple(_localise(o, mapping) for o in obj)
    if isinstance(obj, list):
        return [_localise(o, mapping) for o in obj]
    return obj


def _materialise(bundle: tuple[tuple[str, str, bytes], ...]) -> dict[str, str]:
    """Write the bundle's files under this worker's directory (once per content); path -> local path."""
    try:
        from distributed import get_worker

        root = Path(get_worker().local_directory) / "signalopt-files"
    except (ImportError, ValueError):
        root = Path(tempfile.gettempdir()) / "signalopt-dask-files"
    mapping = {}
    for path, digest, data in bundle:
        local = root / digest[:24] / Path(path).name
        if not local.exists():
            local.parent.mkdir(parents=True, exist_ok=True)
            tmp = local.with_name(f".{local.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, local)
        mapping[path] = str(local)
    return mapping


# ------------------------------------------------------------------ what a Dask worker runs


def _dask_call(fn: Callable[[Any], Any], task: Any, bundle: Any = None) -> tuple:
    """Run ``fn(task)`` in a simulation process of this worker; a tagged reply, never an exception for
    task failures (custom exceptions need not survive pickling)."""
    if bundle is not None:
        task = _localise(task, _materialise(bundle))
    box = _acquire()
    try:
        reply = box.run(fn, task)
    except _ChildDied as exc:
        return ("died", str(exc))
    _release(box)
    return reply


# ------------------------------------------------------------------ the client side


def _require_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise InputError("--executor", "the dask executor needs Dask: pip install 'signalopt[dask]'",
                         "dask") from None


def local_cluster(workers: int = 2):  # noqa: ANN201 - distributed.LocalCluster
    """A :class:`~distributed.LocalCluster` of ``workers`` single-threaded worker processes, set up
    for signalopt: every lost worker is reported at once (``allowed-failures`` 0), one task per
    worker thread at a time (``worker-saturation`` 1.0), the scheduler's HTTP endpoints on a free
    port (a second cluster no longer warns that 8787 is taken), quiet logs, and little housekeeping,
    since every CPU second the scheduler, the nannies and the workers spend is taken from the
    simulations beside them: no statistical profiler in the workers (it samples their threads 100
    times a second), and the event-loop health check (every 20 ms by default), the system monitor
    (every 500 ms, for the dashboard) and the worker memory monitor (every 100 ms; it does not count
    the simulation processes anyway) run once a second or less often.  Idle on 2 cores, this
    housekeeping took 0.10 of a core with Dask's defaults and 0.014 with these settings."""
    _require_dask()
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                          "distributed.scheduler.worker-saturation": 1.0,
                          "distributed.worker.profile.enabled": False,
                          "distributed.admin.tick.interval": "1s",
                          "distributed.admin.system-monitor.interval": "5s",
                          "distributed.worker.memory.monitor-interval": "1s"}):
        # a free port for the HTTP endpoints; dashboard off even where bokeh is installed
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                            scheduler_kwargs={"dashboard": False}, silence_logs=logging.ERROR)


class DaskExecutor:
    """Runs tasks on a Dask cluster; results in task order (see the module docstring).

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:8786``); ``None`` starts a
        :func:`local_cluster` of ``workers`` workers on this machine at the first ``map``.
    workers
        Workers of the local cluster (ignored with ``scheduler``).
    retries
        Resubmissions of a task whose simulation process died, whose worker
        was lost or that raised an unexpected error; deterministic errors
        (:class:`~signalopt.errors.SignaloptError`) are reported at once.
    files
        ``"shared"``, ``"upload"`` or ``"auto"`` (shared for the local
        cluster, upload for a scheduler address).
    connect_timeout_s
        How long to try reaching ``scheduler`` [s].
    """

    def __init__(self, scheduler: str | None = None, *, workers: int = 2, retries: int = 2,
                 files: str = "auto", connect_timeout_s: float = 15.0) -> None:
        if workers < 1:
            raise SignaloptError(f"workers must be at least 1 ({workers})")
        if files not in FILES_MODES:
            raise SignaloptError(f"files must be one of {', '.join(FILES_MODES)} ({files})")
        _require_dask()
        self.scheduler = scheduler
        self.workers = workers
        self.retries = retries
        self.files = files if files != "auto" else ("shared" if scheduler is None else "upload")
        self.connect_timeout_s = connect_timeout_s
        self._cluster = None
        self._client = None
        self._bundles: dict[tuple, Any] = {}

    @property
    def client(self):  # noqa: ANN201 - distributed.Client
        if self._client is None:
            from distributed import Client

            if self.scheduler is None:
                self._cluster = local_cluster(self.workers)
                self._client = Client(self._cluster, set_as_default=False)
            else:
                try:
                    self._client = Client(self.scheduler, timeout=self.connect_timeout_s, set_as_default=False)
                except (OSError, TimeoutError, ValueError) as exc:
                    raise InputError("--scheduler", f"cannot reach the Dask scheduler: {describe_error(exc)}",
                                     self.scheduler) from None
        return self._client

    def _bundle(self, tasks: Sequence[Any]) -> Any:
        """A future of the contents of every file the tasks name (scattered to all workers once)."""
        paths = sorted({p for t in tasks for prep in _prepareds(t) for p in _file_paths(prep)})
        if not paths:
            return None
        stats = []
        for p in paths:
            st = os.stat(p)
            stats.append((p, st.st_size, st.st_mtime_ns))
        sig = tuple(stats)
        fut = self._bundles.get(sig)
        if fut is None or fut.status != "finished":
            bundle = []
            for p in paths:
                data = Path(p).read_bytes()
                bundle.append((p, hashlib.sha256(data).hexdigest(), data))
            fut = self.client.scatter([tuple(bundle)], broadcast=True, hash=False)[0]
            self._bundles[sig] = fut
        return fut

    def _judge(self, fut: Any, attempts: int) -> tuple[bool, Outcome]:
        """(retryable, outcome) of a finished future."""
        from distributed import KilledWorker

        if fut.status == "finished":
            reply = fut.result()
            if reply[0] == "ok":
                return False, Outcome(reply[1], None, attempts)
            if reply[0] == "died":
                return True, Outcome(None, f"worker process died: {reply[1]}", attempts)
            _, text, deterministic = reply
            return not deterministic, Outcome(None, text, attempts)
        if fut.status == "cancelled":
            return True, Outcome(None, "Dask task cancelled (scheduler or worker lost)", attempts)
        exc = fut.exception()
        if isinstance(exc, KilledWorker):
            worker = getattr(exc, "last_worker", None)
            where = getattr(worker, "address", worker) or "unknown address"
            return True, Outcome(None, f"Dask worker lost while running the task ({where})", attempts)
        return True, Outcome(None, describe_error(exc), attempts)

    def map(self, fn, tasks, *, on_result=None):  # noqa: ANN001, ANN201 - see Executor
        tasks = list(tasks)
        if not tasks:
            return []
        from distributed import as_completed

        client = self.client
        upload = self.files == "upload"
        bundle = self._bundle(tasks) if upload else None
        token = uuid.uuid4().hex[:12]
        n = len(tasks)
        results: list[Outcome | None] = [None] * n
        attempts = [0] * n
        charged = [0] * n
        queue = list(range(n))
        live: dict[str, tuple[int, Any]] = {}
        done = as_completed(loop=client.loop)

        def submit() -> None:
            nonlocal bundle
            # at most one task per live worker thread in flight, so a lost worker is charged only
            # to the task it was running (counted afresh: workers come and go)
            slots = max(1, sum(client.nthreads().values())) if queue else 0
            while queue and len(live) < slots:
                i = queue.pop(0)
                attempts[i] += 1
                if upload and (bundle is None or bundle.status != "finished"):
                    bundle = self._bundle(tasks)
                fut = client.submit(_dask_call, fn, tasks[i], bundle, key=f"signalopt-{token}-{i}-{attempts[i]}",
                                    retries=0)
                live[fut.key] = (i, fut)
                done.add(fut)

        try:
            submit()
            for fut in done:
                i, _ = live.pop(fut.key)
                retry, outcome = self._judge(fut, attempts[i])
                fut.release()
                if retry:
                    charged[i] += 1
                    if charged[i] <= self.retries:
                        queue.insert(0, i)
                        submit()
                        continue
                results[i] = outcome
                if on_result:
                    on_result(i, outcome)
                submit()
        finally:
            for _, fut in live.values():
                fut.cancel()
        return [r for r in results if r is not None]

    def close(self) -> None:
        self._bundles.clear()
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
