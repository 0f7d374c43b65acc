#!/bin/sh
# NCCL_IB_HCA must name devices and ports that exist.
. "$TESTS_DIR/integration/lib.sh"

NCCL_IB_HCA='mlx5_0:1,mlx5_1:1' check $(fx healthy-ndr8) --only ib
expect_rc 0
expect_finding '.check == "ib.hca_env" and .status == "pass" and .value == "2 ports"' 1
ok "NCCL_IB_HCA naming two present ports"

NCCL_IB_HCA='mlx5_0:1,mlx5_9:1' check $(fx healthy-ndr8) --only ib
expect_rc 1
expect_finding '.code == "NCCL_IB_HCA_MISSING" and .subject == "mlx5_9:1"' 1
ok "an NCCL_IB_HCA entry naming an absent device fails"

NCCL_IB_HCA='mlx5_0:2' check $(fx healthy-ndr8) --only ib
expect_rc 1
expect_finding '.code == "NCCL_IB_HCA_MISSING" and .subject == "mlx5_0:2"' 1
ok "an absent port of a present device fails"

NCCL_IB_HCA='=mlx5' check $(fx roce) --only ib
expect_rc 1
expect_finding '.code == "NCCL_IB_HCA_MISSING"'
ok "'=' makes the match exact: =mlx5 names nothing"

NCCL_IB_HCA='^mlx5' check $(fx roce) --only ib
expect_rc 1
expect_finding '.code == "NCCL_IB_HCA_MISSING" and .subject == "NCCL_IB_HCA" and .value == "0 ports"' 1
ok "an exclusion of every device leaves NCCL nothing"
