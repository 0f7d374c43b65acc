#!/usr/bin/env python3
"""A tiny, deterministic distributed training job for flightdeck's demo and end-to-end test.

Run it under torchrun (gloo, CPU). Every rank trains the same small MLP on data that depends
only on (step, rank), averages gradients with all_reduce, and rank 0 saves a checkpoint every
--ckpt-every steps as step-NNNNNN.pt, written to a temporary name and renamed into place (the
completion marker flightdeck looks for). Resumed with --resume PATH it continues from that
step, so an interrupted and resumed run ends with parameters bit-identical to an
uninterrupted one.

--stall-at N makes --stall-rank stop itself (SIGSTOP) at step N, on the first launch only
(FLIGHTDECK_RESTART_COUNT=0): the other ranks then wait in all_reduce forever, the hang
flightdeck exists to catch. --stall-how loop hangs it in a Python loop instead, --stall-how
sleep in a data load that never returns, --stall-how desync in a broadcast where the others
all_reduce (a desync: both sides wait for ever). --crash-at N makes --crash-rank exit (os._exit(1), no cleanup)
right after beating step N, on the first launch only: a rank dying under the others.

The first launch is the one whose FLIGHTDECK_RESTART_COUNT (else TORCHELASTIC_RESTART_COUNT, as
torchrun and NVIDIA's ft_launcher set it) is 0. For tests/bench/nvrx.sh: --resume auto resumes
from the newest step-*.pt in --ckpt-dir (for launchers that do not substitute {resume}), --nvrx
beats NVIDIA's resiliency extension (its RankMonitorClient) each step as well, --linger S sleeps
S seconds after the last step (a slow teardown; --mark-end says the last step first: beat total=, the
extension's monitoring ended) and --daemon FILE has rank 0 start a daemon that
escapes the job (setsid, double fork) on the first launch and write its pid to FILE.

FLIGHTDECK_DEMO_TIMING=1 prints "t NAME RANK RESTART UNIX-TIME" lines on stderr as the rank
comes up (up: the script's first line runs; import_done; pg_init_done), for tests/bench/recovery.sh;
stdout and the digest are the same either way.
"""

import time

T_UP = time.time()  # the first line run: from the launch to here, the interpreter starts

import argparse  # noqa: E402
import hashlib  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import flightdeck_heartbeat as hb  # noqa: E402

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

T_IMPORT = time.time()
TIMING = os.environ.get("FLIGHTDECK_DEMO_TIMING") == "1"


def timing(name, t):
    if TIMING:
        sys.stderr.write("t %s %s %s %.6f\n" % (name, os.environ.get("RANK", "0"),
                                                os.environ.get("FLIGHTDECK_RESTART_COUNT", "0"), t))
        sys.stderr.flush()


def batch(step, rank, hang=False):
    while hang:  # a data loader that never returns
        time.sleep(3600)
    g = torch.Generator().manual_seed(1000003 * step + rank)
    x = torch.randn(32, 16, generator=g)
    y = x[:, :4].sum(dim=1, keepdim=True) * 0.5 + 0.1
    return x, y


def escape(pidfile):
    """A daemon that leaves the job: a new session, its parent gone, it sleeps an hour."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            with open(pidfile, "w") as f:
                f.write("%d\n" % os.getpid())
            os.execvp("sleep", ["sleep", "3600"])
        os._exit(0)
    os.wait()


def digest(model):
    text = repr([p.detach().tolist() for p in model.parameters()])
    return hashlib.sha256(text.encode()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--ckpt-dir", required=True)
    ap.add_argument("--ckpt-every", type=int, default=10)
    ap.add_argument("--resume", default=None)
    ap.add_argument("--step-time", type=float, default=0.05, help="seconds per step (sleep)")
    ap.add_argument("--stall-at", type=int, default=-1)
    ap.add_argument("--stall-rank", type=int, default=1)
    ap.add_argument("--stall-how", choices=("stop", "loop", "sleep", "desync"), default="stop",
                    help="how --stall-rank hangs: SIGSTOP; a Python loop outside any "
                    "collective; a sleep while loading its batch; a broadcast where the "
                    "others all_reduce")
    ap.add_argument("--crash-at", type=int, default=-1)
    ap.add_argument("--crash-rank", type=int, default=1)
    ap.add_argument("--out", default=None, help="rank 0 writes the final parameters' digest here")
    ap.add_argument("--beat-log", default=None, help="append 'rank step time' per beat")
    ap.add_argument("--nvrx", action="store_true",
                    help="beat NVIDIA's resiliency extension too (under ft_launcher)")
    ap.add_argument("--linger", type=float, default=0, help="seconds to sleep after the last step")
    ap.add_argument("--mark-end", action="store_true",
                    help="say the last step: beat with total=--steps; end --nvrx's monitoring "
                    "before --linger")
    ap.add_argument("--daemon", default=None,
                    help="rank 0 starts an escaping daemon on the first launch, its pid here")
    args = ap.parse_args()

    timing("up", T_UP)
    timing("import_done", T_IMPORT)
    dist.init_process_group("gloo")
    timing("pg_init_done", time.time())
    rank, world = dist.get_rank(), dist.get_world_size()
    restart = (os.environ.get("FLIGHTDECK_RESTART_COUNT") or
               os.environ.get("TORCHELASTIC_RESTART_COUNT") or "0")
    first_launch = restart == "0"
    ft = None
    if args.nvrx:
        from nvidia_resiliency_ext.fault_tolerance import RankMonitorClient
        ft = RankMonitorClient()
        ft.init_workload_monitoring()
    if args.daemon and rank == 0 and first_launch:
        escape(args.daemon)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    start = 0
    if args.resume == "auto":
        done = sorted(n for n in os.listdir(args.ckpt_dir)
                      if n.startswith("step-") and n.endswith(".pt"))
        args.resume = os.path.join(args.ckpt_dir, done[-1]) if done else None
    if args.resume:
        state = torch.load(args.resume)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        start = state["step"]
        if rank == 0:
            print("resumed from %s at step %d" % (args.resume, start), flush=True)
    log = open(args.beat_log, "a") if args.beat_log else None

    for step in range(start + 1, args.steps + 1):
        if step == args.stall_at and rank == args.stall_rank and first_launch:
            print("rank %d: stopping itself at step %d (%s)" % (rank, step, args.stall_how),
                  flush=True)
            if args.stall_how == "stop":
                os.kill(os.getpid(), signal.SIGSTOP)
            while args.stall_how == "loop":
                pass
        x, y = batch(step, rank, hang=args.stall_how == "sleep" and step == args.stall_at and
                     rank == args.stall_rank and first_launch)
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        desync = (args.stall_how == "desync" and step == args.stall_at and
                  rank == args.stall_rank and first_launch)
        for p in model.parameters():
            if desync:  # another collective than the other ranks': a desync
                dist.broadcast(p.grad, src=rank)
                continue
            dist.all_reduce(p.grad)
            p.grad /= world
        opt.step()
        time.sleep(args.step_time)
        hb.beat(step, total=args.steps + 1 if args.mark_end else None)  # steps 1..steps
        if ft:
            ft.send_heartbeat()
        if log:
            log.write("%d %d %.6f\n" % (rank, step, time.time()))
            log.flush()
        if step == args.crash_at and rank == args.crash_rank and first_launch:
            print("rank %d: crashing at step %d" % (rank, step), flush=True)
            os._exit(1)
        if rank == 0 and step % 10 == 0:
            print("step %d loss %.6f" % (step, loss.item()), flush=True)
        if step % args.ckpt_every == 0:
            if rank == 0:
                with hb.checkpointing(step):
                    path = os.path.join(args.ckpt_dir, "step-%06d.pt" % step)
                    tmp = path + ".tmp"
                    torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                                "step": step}, tmp)
                    os.rename(tmp, path)
            dist.barrier()

    if rank == 0:
        d = digest(model)
        print("final parameters sha256 %s" % d, flush=True)
        if args.out:
            with open(args.out, "w") as f:
                f.write(d + "\n")
    if ft and args.mark_end:
        ft.shutdown_workload_monitoring()
    time.sleep(args.linger)
    if ft and not args.mark_end:
        ft.shutdown_workload_monitoring()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
