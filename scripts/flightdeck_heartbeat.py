"""flightdeck_heartbeat - tell the supervising `flightdeck run` that this rank is making progress.

Dependency-free (standard library only). Every call is a no-op when FLIGHTDECK_HEARTBEAT is not
set, so a training script can use it whether or not it runs under flightdeck.

    import flightdeck_heartbeat as hb

    for step in range(start, steps):
        train_step()
        hb.beat(step, total=steps)     # "rank=R step=N total=T" on the socket
        if step % 100 == 0:
            with hb.checkpointing():   # a longer deadline while saving
                save_checkpoint(step)
    hb.done()                          # optional: sent at exit anyway (atexit)

or, the same loop with the beats and the done written for you:

    for step in hb.steps(range(start, steps)):
        train_step()

With a total, flightdeck knows the last step: once the step reaches total - 1 (the last of
range(total)), what follows (process-group teardown, dataloader workers, the final save) gets
`flightdeck run --teardown-timeout` instead of --stall-timeout, and a hang there is still
caught, later, and said to be past the last step.

The first beat also registers Python's faulthandler on FLIGHTDECK_STACK_SIGNAL, so that before
flightdeck kills a stalled job it can collect every thread's stack into its event log: the
post-mortem then names the line each rank was stuck on.

The done beat ("done=1") says this rank's work is over: what follows (a final save, NCCL or
gloo teardown, a slow interpreter exit) is never called a stall. It is sent at exit by an
atexit handler registered at the first beat (so it runs before the handlers registered
earlier), or earlier by calling done(). A crash after it is still judged by the exit status.

The rank is the first whole number of $RANK (torchrun, torch.distributed),
$OMPI_COMM_WORLD_RANK (Open MPI's mpirun), $PMI_RANK (MPICH, Intel MPI), $PMIX_RANK (PMIx),
$SLURM_PROCID (srun) and $LOCAL_RANK, else 0, as flightdeck_heartbeat.h reads it.

A Hugging Face Trainer or a Lightning Trainer gets all of this from a callback instead:
flightdeck_callbacks, installed beside this module.
"""

import atexit
import contextlib
import faulthandler
import os
import socket
import sys
import threading
import time

__all__ = [
    "beat",
    "checkpoint_begin",
    "checkpoint_end",
    "checkpointing",
    "done",
    "enabled",
    "steps",
]

_path = os.environ.get("FLIGHTDECK_HEARTBEAT")
_sock = None
_stacks_file = None
_stacks = False
_fr_thread = None  # the flight recorder's dump thread, once torch.distributed is up
_pid = None  # the process that opened the socket (a forked worker inherits the module)
_done = False


def enabled():
    """True when running under `flightdeck run`."""
    return bool(_path)


# The global rank before the node-local one: under mpirun or srun every node has a LOCAL_RANK
# 0, and a launcher's own variable is set where torchrun's RANK is not.
_RANK_VARS = ("RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID", "LOCAL_RANK")


def _rank():
    for var in _RANK_VARS:
        value = os.environ.get(var, "")
        if value.isdigit():
            return int(value)
    return 0


def _register_stacks():
    """faulthandler dumps all threads' stacks to a file flightdeck reads, on its signal."""
    global _stacks_file, _stacks
    directory = os.environ.get("FLIGHTDECK_STACK_DIR")
    signum = os.environ.get("FLIGHTDECK_STACK_SIGNAL", "")
    if not directory or not signum.isdigit():
        return
    try:
        path = os.path.join(directory, "stacks-%d.txt" % _rank())
        _stacks_file = open(path, "w")
        faulthandler.register(int(signum), file=_stacks_file, all_threads=True, chain=False)
        _stacks = True
    except (OSError, ValueError, RuntimeError):
        _stacks = False


def _fr_dump():
    """torch's flight recorder (torch >= 2.5, gloo and NCCL) as JSON, once torch.distributed is
    up and the recorder is on (flightdeck sets TORCH_FR_BUFFER_SIZE); None otherwise."""
    dist = sys.modules.get("torch.distributed")
    try:
        if dist is None or not dist.is_available() or not dist.is_initialized():
            return None
        c10d = sys.modules.get("torch._C._distributed_c10d")
        dump = getattr(c10d, "_dump_fr_trace_json", None)
        return dump(True, True) if dump else None
    except Exception:  # an older torch, a recorder that is off: no evidence, no harm
        return None


def _fr_possible():
    dist = sys.modules.get("torch.distributed")
    c10d = sys.modules.get("torch._C._distributed_c10d")
    try:
        return (dist is not None and hasattr(c10d, "_dump_fr_trace_json")
                and dist.is_available() and dist.is_initialized()
                and int(os.environ.get("TORCH_FR_BUFFER_SIZE")
                        or os.environ.get("TORCH_NCCL_TRACE_BUFFER_SIZE") or "0") > 0)
    except (ValueError, AttributeError):
        return False


def _fr_watch(directory):
    """Waits for flightdeck's request (FR_REQUEST appearing or changing) and writes this rank's
    flight-recorder dump to fr-RANK.json beside its stacks. A thread: the main one may be
    blocked in a collective, which releases the interpreter lock while it waits."""
    request = os.path.join(directory, "fr-request")
    seen = None
    while True:
        time.sleep(0.05)
        try:
            st = os.stat(request)
            key = (st.st_mtime_ns, st.st_size)
        except OSError:
            continue
        if key == seen:
            continue
        seen = key
        text = _fr_dump()
        if text is None:
            continue
        if isinstance(text, str):
            text = text.encode("utf-8", "replace")
        path = os.path.join(directory, "fr-%d.json" % _rank())
        try:
            with open(path + ".tmp", "wb") as f:
                f.write(text)
            os.rename(path + ".tmp", path)
        except (OSError, TypeError):
            pass  # no dump: flightdeck goes by the states and stacks
_pid = None  # the process that opened the socket (a forked worker inherits the module)
_done = False


def _at_exit():
    # Only the process that beat: a forked worker that inherited the module is not the rank.
    if _sock is not None and _pid == os.getpid() and not _done:
        done()


def _send(fields):
    global _sock, _pid, _done, _fr_thread
    if not _path:
        return
    if _sock is None:
        _register_stacks()
        _sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        # flightdeck reads within milliseconds; if its queue is ever full, wait that long at
        # most and drop the beat rather than stall training behind a supervisor.
        _sock.settimeout(0.02)
        _pid = os.getpid()
        atexit.register(_at_exit)
    _done = fields == "done=1"
    fr = _stacks and _fr_possible()
    if fr and _fr_thread is None:  # the recorder is up: wait for flightdeck's requests
        _fr_thread = threading.Thread(target=_fr_watch, name="flightdeck-fr", daemon=True,
                                      args=(os.environ["FLIGHTDECK_STACK_DIR"],))
        _fr_thread.start()
    message = "rank=%d %s%s%s" % (_rank(), fields, " stacks=1" if _stacks else "",
                                  " fr=1" if fr else "")
    try:
        _sock.sendto(message.encode("ascii"), _path)
    except OSError:
        pass  # flightdeck gone or busy: a missed beat is not worth crashing the training for


def _total(value):
    """A total as flightdeck reads it: a whole number of 1 to 18 digits."""
    if isinstance(value, bool) or int(value) != value or not 1 <= value < 10**18:
        raise ValueError("flightdeck_heartbeat: total must be a whole number from 1 to "
                         "10**18 - 1, not %r" % (value,))
    return int(value)


def beat(step=None, total=None):
    """One heartbeat; with a step, progress is the step advancing.

    total: the job's steps, counted from 0 (range(total)): from step total - 1 on, the rank is
    past its last step and its teardown gets --teardown-timeout instead of --stall-timeout.
    """
    fields = []
    if step is not None:
        fields.append("step=%d" % int(step))
    if total is not None:
        fields.append("total=%d" % _total(total))
    _send(" ".join(fields))


def steps(iterable, total=None):
    """Yields the items of iterable, beating after each one, and sends done when it is exhausted.

    The step beaten is the item itself when iterable is a range (its numbers are the steps:
    steps(range(start, total)) resumes at start), else the item's index from 0. total defaults
    to one past the range's last number, else to len(iterable) when it has one. Leaving the
    loop early (break, an exception) sends no done: only a loop that ran to its end is over.
    """
    if isinstance(iterable, range):
        numbers = iterable
        if total is None and len(iterable) and iterable.step > 0:
            total = iterable[-1] + 1
    else:
        numbers = None
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable) or None
    if total is not None:
        total = _total(total)
    for index, item in enumerate(iterable):
        yield item
        beat(numbers[index] if numbers is not None else index, total=total)
    done()


def checkpoint_begin(step=None):
    """Saving a checkpoint: --checkpoint-timeout applies instead of --stall-timeout."""
    _send(("" if step is None else "step=%d " % int(step)) + "phase=checkpoint")


def checkpoint_end(step=None):
    """Back to training."""
    _send(("" if step is None else "step=%d " % int(step)) + "phase=train")


def done():
    """This rank's work is over: a slow teardown after it is not a stall (also sent at exit)."""
    _send("done=1")


@contextlib.contextmanager
def checkpointing(step=None):
    checkpoint_begin(step)
    try:
        yield
    finally:
        checkpoint_end(step)
