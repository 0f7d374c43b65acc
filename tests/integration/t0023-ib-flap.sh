#!/bin/sh
# Link-down events in the kernel log, attributed by device, PCI address or netdev name.
. "$TESTS_DIR/integration/lib.sh"

base="--sysfs-root $FIXTURES/healthy-ndr8/sys --proc-root $FIXTURES/healthy-ndr8/proc --only ib --ib-write-bw /nonexistent/ib_write_bw"

check $base --kmsg "$KMSG_DIR/ib-flap.dmesg"
expect_rc 1
expect_finding '.code == "IB_LINK_FLAP" and .subject == "mlx5_2" and .value == "3 in 24.0 h"' 1
expect_finding '.code == "IB_LINK_FLAP"' 1
expect_finding '.check == "ib.flap" and .subject == "mlx5_0" and .status == "pass" and .value == "1 in 24.0 h"' 1
expect_finding '.check == "ib.flap" and .subject == "mlx5_1" and .status == "pass" and .value == "0 in 24.0 h"' 1
ok "3 recent link-downs on mlx5_2 (cable, IPoIB carrier, netdev) fail; 1 on mlx5_0 passes; old ones on mlx5_1 ignored"

check $base --kmsg "$KMSG_DIR/ib-flap.dmesg" --flap-window 30h
expect_rc 1
expect_finding '.code == "IB_LINK_FLAP" and .subject == "mlx5_1"' 1
ok "--flap-window 30h reaches the old flaps"

check $base --kmsg "$KMSG_DIR/ib-flap.dmesg" --ib-flap-max 3
expect_rc 0
ok "--ib-flap-max 3 tolerates three"
