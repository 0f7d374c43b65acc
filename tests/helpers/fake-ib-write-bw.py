#!/usr/bin/python3
"""fake-ib-write-bw.py - a stand-in for perftest's ib_write_bw where no RDMA device exists.

It takes the real tool's arguments and prints in its real format (tests/fixtures/perftest/):
a server (no host argument) listens on -p's TCP port on every IPv4 address, as perftest does,
and prints the client's row once the client has sent it; a client connects to HOST:-p, "runs"
for a moment and prints the report row. What each device does comes from the environment,
as space-separated DEV:VALUE pairs (DEV "*" for any other device, "gpu" for a test from GPU
memory):

  FAKE_IBBW_GBPS  the average in Gb/s       ("mlx5_5:176.02 *:392.71"); the server tells its
                  client its own, and the client reports the lower of the two, as a link
                  between two nodes runs at its slower end's speed
  FAKE_IBBW_MODE  ok | hang | die | garbage | nodevice | usage | huge | noserver | busy
                  (busy: the first server on a TCP port says it is taken; noserver: the
                  server exits at once without listening)
  FAKE_IBBW_CUDA  1: --help lists --use_cuda and --use_cuda_bus_id (a build with CUDA)
  FAKE_IBBW_LOG   a file each invocation appends its arguments to, one line
  FAKE_IBBW_SLEEP seconds the client "runs" (default 0.2; -D is not waited for)
  FAKE_IBBW_HANG_AFTER  N: clients hang once N clients have connected before them (counted
                  in FAKE_IBBW_STATE, a directory): a node whose loopback test passes and whose
                  tests with other nodes hang
"""
import os
import signal
import socket
import sys
import time

L = "-" * 87
HDR_G = " #bytes     #iterations    BW peak[Gb/sec]    BW average[Gb/sec]   MsgRate[Mpps]"
HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "fixtures", "perftest")


def pick(var, dev, gpu, default):
    table = {}
    for item in os.environ.get(var, "").split():
        k, _, v = item.rpartition(":")
        table[k] = v
    if gpu and "gpu" in table:
        return table["gpu"]
    return table.get(dev, table.get("*", default))


def header(dev):
    lines = [L, "                    RDMA_Write BW Test",
             " Dual-port       : OFF\t\tDevice         : %s" % dev,
             " Number of qps   : 1\t\tTransport type : IB",
             " Connection type : RC\t\tUsing SRQ      : OFF",
             " PCIe relax order: ON", " ibv_wr* API     : ON", " TX depth        : 128",
             " CQ Moderation   : 1", " Mtu             : 4096[B]", " Link type       : IB",
             " Max inline data : 0[B]", " rdma_cm QPs\t : OFF", " Data ex. method : Ethernet", L,
             " local address: LID 0x01 QPN 0x0111 PSN 0x6a6a8e RKey 0x1fdfbc VAddr 0x007f7f2c9f1000",
             " remote address: LID 0x01 QPN 0x0112 PSN 0x6bb8e1 RKey 0x1fe0bd VAddr 0x007f3cf8f3d000",
             L, HDR_G]
    return "\n".join(lines) + "\n"


def row(size, gbps):
    rate = gbps * 1e9 / (size * 8) / 1e6
    iters = int(rate * 1e6 * 2)
    return " %-7d    %-10d       %-7.2f            %-7.2f\t\t   %-7.6f\n" % (size, iters, 0.0, gbps, rate)


def out(s):
    sys.stdout.write(s)
    sys.stdout.flush()


def err(s):
    sys.stderr.write(s)
    sys.stderr.flush()


def main(argv):
    log = os.environ.get("FAKE_IBBW_LOG")
    if log:
        with open(log, "a") as f:
            f.write(" ".join(argv[1:]) + "\n")
    if "--help" in argv or "-h" in argv:
        with open(os.path.join(FIX, "help-cuda.txt" if os.environ.get("FAKE_IBBW_CUDA") == "1" else "help.txt")) as f:
            out(f.read())
        return 1
    dev, port, size, host, gpu = "mlx5_0", 18515, 65536, None, False
    a = argv[1:]
    i = 0
    while i < len(a):
        x = a[i]
        if x in ("-d", "-i", "-p", "-D", "-s"):
            v = a[i + 1]
            i += 1
            if x == "-d":
                dev = v
            elif x == "-p":
                port = int(v)
            elif x == "-s":
                size = int(v)
        elif x.startswith("--use_cuda"):
            gpu = True
        elif x.startswith("-"):
            if x not in ("--report_gbits", "-F"):
                err(" Parser function exited with Error\n")
                return 1
        else:
            host = x
        i += 1
    mode = pick("FAKE_IBBW_MODE", dev, gpu, "ok")
    gbps = float(pick("FAKE_IBBW_GBPS", dev, gpu, "392.71"))
    if mode == "nodevice":
        err(" Did not detect devices \n If device exists, check if driver is up\n Unable to find the Infiniband/RoCE device\n")
        return 1
    if mode == "usage":
        err(" Parser function exited with Error\n")
        return 1
    if host is None:
        return server(dev, port, size, mode, gbps)
    return client(dev, host, port, size, mode, gbps)


def server(dev, port, size, mode, gbps):
    out("\n************************************\n* Waiting for client to connect... *\n************************************\n")
    if mode == "noserver":
        return 1
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    done = os.path.join(os.environ.get("FAKE_IBBW_STATE", "/nonexistent"), "busy-done")
    if mode == "busy" and os.path.isdir(os.path.dirname(done)) and not os.path.exists(done):
        open(done, "w").close()
        err("Couldn't listen to port %d\nUnable to open file descriptor for socket connection Unable to init the socket connection\n" % port)
        return 1
    try:
        s.bind(("0.0.0.0", port))
        s.listen(1)
    except OSError:
        err("Couldn't listen to port %d\nUnable to open file descriptor for socket connection Unable to init the socket connection\n" % port)
        return 1
    c, _ = s.accept()
    c.sendall(("%.2f\n" % gbps).encode())
    data = b""
    while not data.endswith(b"\n"):
        got = c.recv(256)
        if not got:
            break
        data += got
    out(header(dev))
    if data:
        out(data.decode("ascii", "replace"))
    out(L + "\n")
    return 0


def client(dev, host, port, size, mode, gbps):
    try:
        c = socket.create_connection((host, port), timeout=2)
    except OSError:
        err("Couldn't connect to %s:%d\nUnable to open file descriptor for socket connection Unable to init the socket connection\n" % (host, port))
        return 1
    after = os.environ.get("FAKE_IBBW_HANG_AFTER")
    if after is not None:
        state = os.environ["FAKE_IBBW_STATE"]
        seen = len([n for n in os.listdir(state) if n.startswith("connected-")])
        open(os.path.join(state, "connected-%d" % os.getpid()), "w").close()
        if seen >= int(after):
            mode = "hang"
    if mode == "hang":
        signal.pause()
    theirs = b""
    c.settimeout(2)
    try:
        while not theirs.endswith(b"\n"):
            got = c.recv(64)
            if not got:
                break
            theirs += got
        gbps = min(gbps, float(theirs))
    except (OSError, ValueError):
        pass
    time.sleep(float(os.environ.get("FAKE_IBBW_SLEEP", "0.2")))
    if mode == "die":
        out(header(dev) + " %-7d    93" % size)
        os.kill(os.getpid(), signal.SIGSEGV)
    if mode == "garbage":
        out("\x00\x01 #bytes BW average[Gb/sec] \xff\n 1048576 nan inf -1 x\n")
        return 0
    if mode == "huge":
        out(header(dev) + " %-7d    1    0.00    99999999999999999999999999999.00   1.0\n" % size)
        return 0
    r = row(size, gbps)
    c.sendall(r.encode())
    c.close()
    out(header(dev) + r + L + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
