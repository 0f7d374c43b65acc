#!/bin/sh
# Port state, physical state and rate on the 8-HCA NDR fixtures.
. "$TESTS_DIR/integration/lib.sh"

check $(fx healthy-ndr8) --only ib
expect_rc 0
expect_finding '.check == "ib.port" and .status == "pass"' 8
expect_finding '.check == "ib.rate" and .status == "pass" and .value == "400 Gb/sec (4X NDR)"' 8
expect_no_finding '.status == "fail"'
jq -e '(.node | type) == "string" and (.duration_ms | type) == "number" and
	([.findings[] | has("check","subject","status","code","value","expected","message","remedy")] | all)' \
	"$TMP/out" >/dev/null || fail "JSON document lacks a contract field"
ok "healthy 8x NDR: 8 ports pass on state and rate"

check $(fx port-down) --only ib
expect_rc 1
expect_finding '.code == "IB_PORT_DOWN" and .subject == "mlx5_3/1" and .value == "1: DOWN" and .expected == "4: ACTIVE" and .status == "fail"' 1
expect_finding '.code == "IB_PHYS_DOWN" and .subject == "mlx5_3/1" and .value == "2: Polling"' 1
expect_no_finding '.code == "IB_RATE_LOW"'
expect_finding '.check == "ib.port" and .status == "pass"' 7
jq -e '.verdict == "fail"' "$TMP/out" >/dev/null || fail "verdict should be fail"
ok "one port down: IB_PORT_DOWN and IB_PHYS_DOWN on mlx5_3/1, the rate of a down port not judged"

NCCL_IB_HCA='^mlx5_3' check $(fx port-down) --only ib
expect_rc 0
expect_finding '.check == "ib.port" and .subject == "mlx5_3/1" and .status == "skip"' 1
ok "a down port that NCCL_IB_HCA excludes is skipped, not failed"

check $(fx rate-degraded) --only ib
expect_rc 1
expect_finding '.code == "IB_RATE_LOW" and .subject == "mlx5_5/1" and .value == "200 Gb/sec (4X HDR)" and .expected == ">= 400 Gb/sec"' 1
expect_finding '.code == "IB_RATE_LOW"' 1
ok "one degraded port among eight: IB_RATE_LOW on that port only"

check $(fx healthy-ndr8) --only ib --expect-ib-rate 800
expect_rc 1
expect_finding '.code == "IB_RATE_LOW"' 8
ok "--expect-ib-rate above every port fails all eight"

printf '# fabric\nexpect-ib-rate = 800Gb/s\n' >"$TMP/fd.conf"
check $(fx healthy-ndr8) --only ib --config "$TMP/fd.conf"
expect_rc 1
check $(fx healthy-ndr8) --only ib --expect-ib-rate 400 --config "$TMP/fd.conf"
expect_rc 0
ok "--config sets the expectation; a flag overrides the file whatever the order"

check $(fx roce) --only ib
expect_rc 0
expect_finding '.check == "ib.port" and .status == "pass" and (.message | test("^Ethernet"))' 2
expect_finding '.check == "ib.rate" and .status == "pass"' 2
ok "RoCE node: Ethernet link layer reported, ports pass"

check $(fx no-rdma) --only ib
expect_rc 0
expect_finding '.check == "ib.port" and .status == "skip" and (.message | test("no RDMA devices"))' 1
expect_no_finding '.status == "pass" or .status == "fail"'
ok "no RDMA at all: every IB check skips with the reason"
