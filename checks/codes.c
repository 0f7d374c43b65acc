/*
 * codes.c - the reason-code table: every code a finding can carry, with what it means, why
 * it matters to a training job and what to do. `flightdeck explain CODE` prints a row; the
 * text report prints the remedy under each failure. Codes are a stable contract: rename
 * none, remove none; add rows at will.
 *
 * Some rows describe checks that live in other areas (GPU via NVML, bandwidth, memfit) so
 * that operators and scripts can rely on the whole vocabulary from the first release.
 */
#include "check.h"

#include <string.h>

#define FAIL FD_FAIL
#define WARN FD_WARN

static const struct fd_code codes[] = {
    /* --- InfiniBand / RDMA ------------------------------------------------------- */
    {"IB_PORT_DOWN", FAIL, "An RDMA port is not in the ACTIVE state.",
     "NCCL hangs or falls back to TCP when a port it was told to use is not active; a job "
     "across nodes waits on the slowest link, so one down port stalls the whole job.",
     "Run `ibstat` and `iblinkinfo` on the node. INIT means the subnet manager has not "
     "configured the port (check opensm / the UFM); DOWN with phys_state Polling means no "
     "peer: reseat or replace the cable or transceiver. Drain the node until it is ACTIVE."},
    {"IB_PHYS_DOWN", FAIL, "An RDMA port has no physical link (phys_state is not LinkUp).",
     "The physical layer is the root cause of most port failures: a loose or failed cable, "
     "a bad transceiver, or the switch port disabled.",
     "Check the cable and transceiver at both ends and the switch port (`ibportstate`, "
     "`mlxlink -d DEV`); Disabled means someone disabled the port on purpose."},
    {"IB_RATE_LOW", FAIL, "An RDMA port is active at a lower rate than expected.",
     "A port that trained to a lower speed or width is 'Active but degraded': every "
     "collective across nodes runs at the speed of the slowest link.",
     "Compare `ibstat` rates across ports; reseat or replace the cable, check `mlxlink` for "
     "the negotiated width and speed, and set --expect-ib-rate to the fabric's rate."},
    {"IB_ERRORS_RISING", FAIL, "RDMA port error counters grew while we watched.",
     "Symbol errors, link recoveries and receive errors that grow at idle mean a marginal "
     "link: it retransmits, slows collectives, and eventually drops.",
     "Read `perfquery -x` twice, clear counters with `perfquery -R` and watch; replace the "
     "cable or transceiver if symbol_error or link_error_recovery keep rising."},
    {"IB_LINK_FLAP", FAIL, "The kernel log shows an RDMA link going down repeatedly.",
     "A flapping link passes a point-in-time check and then drops in the middle of a job, "
     "which NCCL sees as a hang or a timeout.",
     "Look at the link-down lines in `dmesg`; check the cable and the switch port's error "
     "log; drain the node until the link stays up."},
    {"NCCL_IB_HCA_MISSING", FAIL, "NCCL_IB_HCA names an RDMA device or port that does not exist.",
     "NCCL silently skips HCAs it cannot find: the job runs on fewer rails at a fraction of "
     "the bandwidth, or falls back to sockets.",
     "Compare NCCL_IB_HCA with `ls /sys/class/infiniband` (device names change between "
     "driver versions and with udev rules); fix the variable in the job script or image."},
    {"IB_BW_LOW", FAIL, "RDMA write bandwidth in loopback is far below the port's own rate.",
     "A port can be ACTIVE at full rate and still move data slowly: a marginal cable that "
     "retransmits, a HCA whose PCIe link trained narrow or slow, firmware trouble, a GPU "
     "too far from the HCA for GPUDirect RDMA. Every collective across nodes then runs at "
     "that speed: the job is slow or times out, with no error anywhere.",
     "Run `ib_write_bw -d DEV -i PORT --report_gbits` against a known-good node to tell the "
     "link from the HCA; check the HCA's PCIe link (`lspci -vv`: LnkSta against LnkCap), "
     "`mlxlink -d DEV` for the cable, and `nvidia-smi topo -m` for GPU memory; make sure "
     "nothing else used the port meanwhile; drain the node until it is fixed."},
    {"IB_BW_FAILED", FAIL, "The RDMA write bandwidth test could not run on a port.",
     "ib_write_bw that hangs, crashes or cannot open a device that sysfs lists means the "
     "verbs stack NCCL uses is broken on this node: rdma-core's provider missing, a driver "
     "mismatch after an update, a hung HCA.",
     "Read the finding's line; run `ibv_devinfo` and `ib_write_bw -d DEV` by hand; check "
     "that rdma-core matches the kernel driver (MLNX_OFED or inbox), restart openibd or "
     "reboot; drain the node until the test runs."},
    {"IB_PAIR_LOW", FAIL, "RDMA write between two nodes is far below their ports' rate.",
     "Each node can pass its own loopback test and still be slow across the fabric: a bad "
     "cable or transceiver between the HCA and its leaf switch, a switch port or uplink "
     "degraded, a subnet routing that sends the pair through a congested path. The "
     "allreduce then runs at the slowest pair's speed. A node slow with every peer it met "
     "(one of them proven fast with others) is named alone; a pair whose ends are both fast "
     "with other nodes is named as the link between them.",
     "For a node: check its cables and its switch port (`mlxlink -d DEV`, `ibdiagnet`, the "
     "port's error counters on both sides), reseat or replace, drain it meanwhile. For a "
     "link: trace the path between the two (`ibtracert`), check the switch ports on it; "
     "keep the two nodes out of one job until it is fixed."},
    {"IB_PAIR_FAILED", FAIL, "The RDMA write test between two nodes could not run.",
     "ib_write_bw on one node could not reach or use its peer: the client was refused or "
     "its connection never came up (a firewall on the TCP port of perftest's exchange, a "
     "partition key or GID mismatch, a port that cannot reach the other's subnet), or one "
     "side hung. NCCL between those nodes would fail or hang the same way.",
     "Read the finding's line; run `ib_write_bw -d DEV` on one node and `ib_write_bw -d DEV "
     "HOST` on the other by hand; check that the nodes' TCP ports above 1024 are open to each "
     "other, that both HCAs are in the same partition (`smpquery`, the pkeys in sysfs) and "
     "that `ibstat` shows both ports ACTIVE on the same fabric."},
    {"IB_VERBS_MISMATCH", WARN, "libibverbs reports a port state different from sysfs.",
     "The verbs layer is what NCCL uses; a disagreement means a driver or firmware problem.",
     "Compare `ibv_devinfo -v` with `ibstat`; restart openibd or reload the driver."},

    {"HW_FACT_MALFORMED", FAIL,
     "A kernel attribute (sysfs or /proc) holds a value the kernel should never write.",
     "An empty or garbled port state, link rate, counter or PCI id means a driver or "
     "firmware fault, or a broken device: the check that reads it cannot judge the device, "
     "and whatever depends on that device may fail the same way in a job.",
     "Read the file named in the finding (`cat`); compare with the same file on a healthy "
     "node; reload the driver (e.g. `openibd restart`, `rmmod`/`modprobe`) or reboot, and "
     "update the firmware if it recurs. Drain the node until the value is sane."},

    /* --- GPU ------------------------------------------------------------------------ */
    {"GPU_DRIVER_NOT_LOADED", FAIL,
     "NVIDIA GPUs are on the PCI bus but the driver is not serving them.",
     "Nothing can use the GPUs. The classic cause is an unattended kernel update: the "
     "nvidia module was built for the previous kernel, DKMS failed to rebuild it (silently), "
     "and after the reboot nvidia-smi cannot talk to the driver.",
     "Compare `uname -r` with `dkms status`; run `dkms autoinstall` (read "
     "/var/lib/dkms/nvidia/*/build/make.log if it fails) or reinstall the driver for the "
     "running kernel, then `modprobe nvidia` and check `nvidia-smi`. Prevent a repeat: pin the "
     "kernel on GPU nodes (apt-mark hold linux-image-$(uname -r)), roll kernel updates one "
     "node at a time, and keep this check in the node's return-to-service path."},
    {"GPU_COUNT", FAIL, "The node has a different number of GPUs than expected.",
     "A GPU that fell off the bus or was not enumerated leaves a job short of ranks or "
     "makes it crash at start.",
     "Compare `lspci -d 10de:` with `nvidia-smi -L`; look for Xid 79 in the kernel log; "
     "reseat or replace the GPU. Set --expect-gpus to the node's design count."},
    {"GPU_XID_FATAL", FAIL, "The kernel log has an Xid that means the GPU or node needs attention.",
     "Xids such as 48 (double-bit ECC), 63/64 (row remapping), 74 (NVLink), 79 (fell off the "
     "bus), 94/95 (ECC containment) and 119/120 (GSP) mean wrong results or a GPU that will "
     "fail again; ignoring them wastes days of compute on corrupted training.",
     "Drain the node. Look up the Xid in NVIDIA's Xid catalogue; reset the GPU (nvidia-smi "
     "-r) or reboot for 63/64/94, replace the GPU for repeated 48/79/95. Tune the list with "
     "--xid-fatal and the age limit with --xid-window."},
    {"GPU_XID_APP", WARN, "The kernel log has an Xid usually caused by the application.",
     "Xids 13, 31, 43, 45 and 68 are most often an illegal memory access or a killed "
     "process; they matter when they repeat on one node only.",
     "Look at the process named in the Xid line; if the same Xid repeats on this node and "
     "not others, treat it as hardware."},
    {"GPU_XID_OTHER", WARN,
     "The kernel log has an Xid in neither the fatal nor the application list.",
     "Unclassified Xids are rare and worth a look before the next job.",
     "Look the Xid up in NVIDIA's Xid catalogue and add it to --xid-fatal or --xid-app."},
    {"GPU_ECC_DISABLED", WARN, "ECC is turned off on a GPU that supports it.",
     "Without ECC a flipped bit in HBM silently corrupts weights or gradients.",
     "Enable it (nvidia-smi -e 1) and reset the GPU or reboot."},
    {"GPU_CUDA_DRIVER_OLD", WARN,
     "The driver supports an older CUDA than flightdeck-gpubench was built with.",
     "A CUDA runtime needs a driver that supports at least its major version: the GPU "
     "bandwidth tests cannot run here, and a training stack built for that CUDA fails at its "
     "first kernel launch (cudaErrorInsufficientDriver).",
     "Install a driver for the CUDA the jobs use, or build flightdeck (and the training "
     "stack) with the CUDA this driver supports; `nvidia-smi` shows the driver's CUDA."},
    {"GPU_PERSISTENCE_OFF", WARN, "Persistence mode is off.",
     "Without it the driver tears the GPU state down when idle: every job start pays the "
     "initialisation, and NVML queries are slow.",
     "Run nvidia-persistenced (or nvidia-smi -pm 1) on GPU nodes."},
    {"GPU_MIG_MODE", FAIL, "A GPU's MIG mode is not what the job expects.",
     "A MIG-partitioned GPU shows up as slices: a training job sees a fraction of the memory "
     "and compute it was sized for.",
     "nvidia-smi -mig 0 (or 1) and reset the GPU; set --expect-mig to the node's role."},
    {"GPU_ECC_UNCORRECTABLE", FAIL, "A GPU reports uncorrectable ECC errors.",
     "Uncorrectable (double-bit) errors corrupt results or kill the process using the page.",
     "Drain the node; `nvidia-smi -q -d ECC,ROW_REMAPPER`; reset the GPU to trigger row "
     "remapping, replace it if errors continue."},
    {"GPU_ROW_REMAP_PENDING", FAIL, "A GPU has a memory row remap pending a reset.",
     "The faulty row stays in use until the GPU is reset.",
     "Reset the GPU when idle (nvidia-smi -r) or reboot the node."},
    {"GPU_ROW_REMAP_FAILED", FAIL, "A GPU ran out of spare rows to remap.",
     "The GPU can no longer repair its memory: errors will recur.", "Replace the GPU."},
    {"GPU_THERMAL", FAIL, "A GPU is at or above its slowdown temperature.",
     "Above the slowdown threshold the GPU cuts its clocks; one hot GPU slows every rank.",
     "Check fans, airflow and inlet temperature; `nvidia-smi -q -d TEMPERATURE`."},
    {"GPU_CLOCKS_THROTTLED", FAIL,
     "A GPU's clocks are held down by hardware, thermal or power brake.",
     "A throttled GPU can lose a third of its throughput and stalls synchronous training.",
     "`nvidia-smi -q -d PERFORMANCE`; check power supplies, cooling and power capping."},
    {"GPU_PCIE_DEGRADED", FAIL, "A GPU's PCIe link is narrower or slower than its maximum.",
     "Host-device copies and GPUDirect traffic slow down in proportion.",
     "Reseat the GPU or riser; check `lspci -vv` LnkSta against LnkCap."},
    {"GPU_NVLINK_DOWN", FAIL, "An NVLink that should be active is down.",
     "NCCL routes around it through PCIe at a fraction of the bandwidth, or fails.",
     "`nvidia-smi nvlink -s`; reset the GPUs or NVSwitch fabric manager; replace the board."},
    {"GPU_BUSY", FAIL, "Processes already hold GPU memory before the job starts.",
     "A leftover from a killed job keeps its memory: the next job OOMs at start or slowly.",
     "`nvidia-smi --query-compute-apps=pid,used_memory --format=csv`; kill the leftovers."},

    /* --- bandwidth -------------------------------------------------------------------- */
    {"HBM_BW_LOW", FAIL, "GPU memory bandwidth is below the expectation for this model.",
     "Low HBM bandwidth points to a degraded GPU, bad clocks or a wrong power mode.",
     "Run the bench again with the GPU idle; compare with its siblings; reset or replace."},
    {"ALLREDUCE_BW_LOW", FAIL, "Allreduce bus bandwidth is below the expectation.",
     "Collectives set the pace of data-parallel training.",
     "Check NVLink/NVSwitch state, PCIe topology and NCCL_* variables; compare nodes."},
    {"GPU_BENCH_FAILED", FAIL, "flightdeck-gpubench hung, crashed or printed no report.",
     "A GPU benchmark that cannot finish on an idle node points to a hung GPU, a broken driver or "
     "an NCCL that cannot initialise: a training job would hang the same way.",
     "Run flightdeck-gpubench --json by hand; check the kernel log for Xids, nvidia-smi, and "
     "NCCL_DEBUG=INFO output; raise --gpubench-timeout only if the node is merely slow."},
    {"GPU_BENCH_WRONG", FAIL, "A GPU kernel's result did not verify.",
     "The GPU computes wrong numbers: silent corruption of training.",
     "Drain the node; run the benchmark again; replace the GPU if it repeats."},
    {"ALLREDUCE_WRONG", FAIL, "Allreduce produced a wrong result.",
     "Silent data corruption: the model trains on garbage.", "Drain the node; replace the GPU."},
    {"BW_WORLD_LOW", FAIL,
     "The NCCL allreduce across the job's nodes is below its floor; the slowest node is named.",
     "A data-parallel step waits for the slowest link in the ring: one node with a degraded "
     "NIC, a cable at a lower rate or a congested port slows every node of the job.",
     "Exclude the named node (check --job wrote it to --exclude-file: sbatch --exclude) and "
     "look at its NICs: `flightdeck check --only ib`, ibstat, port counters, the switch port; "
     "without a named node, the fabric at full scale (congestion, routing) is the suspect."},
    {"BW_WORLD_FAILED", FAIL,
     "flightdeck-gpubench across nodes hung, never gave the NCCL id, or failed on this node.",
     "NCCL that cannot form a communicator across nodes on an idle job hangs the training "
     "job the same way, at its first collective.",
     "Run `NCCL_DEBUG=INFO flightdeck-gpubench --world 0/2` and `--world 1/2 --nccl-id ID` by "
     "hand on the node and a good one; check NCCL_SOCKET_IFNAME, NCCL_IB_HCA, firewalls "
     "between the nodes and the kernel log for Xids."},

    /* --- host ---------------------------------------------------------------------------- */
    {"SHM_TOO_SMALL", FAIL, "/dev/shm is too small for training.",
     "PyTorch DataLoader workers and NCCL pass data through /dev/shm. Docker and Kubernetes "
     "default to 64 MB, and the failure is a bare 'Bus error' from a worker when a batch "
     "no longer fits.",
     "Kubernetes: mount an emptyDir with medium: Memory (sizeLimit 8Gi-16Gi) at /dev/shm. "
     "Docker: --shm-size=16g or --ipc=host. Slurm/bare metal: remount tmpfs with a larger "
     "size (mount -o remount,size=16G /dev/shm)."},
    {"MEMLOCK_LIMITED", FAIL, "The locked-memory limit is too low for RDMA.",
     "RDMA registers (pins) buffers; with a low RLIMIT_MEMLOCK NCCL fails to register "
     "memory or falls back to slower paths.",
     "Set `ulimit -l unlimited`: in Slurm, PropagateResourceLimitsExcept=MEMLOCK and "
     "LimitMEMLOCK=infinity in slurmd's unit (`systemctl edit slurmd`, then restart it): "
     "a Prolog or HealthCheckProgram runs with slurmd's own limit (8 MiB by default), so "
     "until then this fails in every prolog of an RDMA node; in containers, --ulimit "
     "memlock=-1."},
    {"CKPT_FS_LOW", WARN,
     "The checkpoint directory is on a shared filesystem that is full or low on space.",
     "The next checkpoint may fail to save, and a job that cannot save loses its progress at "
     "the next failure. The filesystem is shared by the job's nodes (NFS, Lustre, GPFS, "
     "BeeGFS, CIFS, CephFS, FUSE, ...), so this node is not at fault and draining it would "
     "not help: it is a warning, not a failure.",
     "Free space or raise the quota on the shared filesystem (`df`, `lfs quota`, "
     "`mmlsquota`), delete old checkpoints, or point --checkpoint-dir elsewhere. "
     "--disk-min-free sets the threshold (auto: min(20 GiB, 5 % of the filesystem))."},
    {"DISK_LOW", FAIL, "The checkpoint directory has too little free space.",
     "A checkpoint that cannot be written leaves nothing to restart from.",
     "Free space or point --checkpoint-dir elsewhere; size it for at least two checkpoints."},
    {"CKPT_DIR_UNWRITABLE", FAIL, "The checkpoint directory cannot be written.",
     "The job will run for hours and then fail to save: 68 hours lost is how this is found.",
     "Check the mount (read-only? stale NFS handle?), ownership and permissions, and quota."},
    {"NCCL_IFNAME_MISSING", FAIL, "NCCL_SOCKET_IFNAME selects no interface that is up.",
     "NCCL cannot bootstrap: the job fails at init or hangs waiting for peers.",
     "Compare NCCL_SOCKET_IFNAME with `ip -br link` (prefix match; ^ excludes; = is exact)."},
    {"CLOCK_UNSYNCED", WARN, "The system clock is not synchronised (NTP/PTP).",
     "Skewed clocks make logs across nodes impossible to line up and can break "
     "time-limited credentials.",
     "Check `chronyc tracking` or `timedatectl`; start chrony or ntpd on the host."},

    /* --- memory fit ----------------------------------------------------------------------- */
    {"MEMFIT_OOM", FAIL, "The configured model and parallelism do not fit in GPU memory.",
     "The job would die with CUDA out of memory, possibly hours in.",
     "Run `flightdeck memfit` with the job's settings: it lists the cheapest changes that fit."},
};

const struct fd_code *fd_code_find(const char *code)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].code, code) == 0)
			return &codes[i];
	return NULL;
}

size_t fd_code_count(void)
{
	return sizeof(codes) / sizeof(codes[0]);
}

const struct fd_code *fd_code_at(size_t i)
{
	return i < fd_code_count() ? &codes[i] : NULL;
}
