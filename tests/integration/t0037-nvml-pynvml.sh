#!/bin/sh
# checks/hw/nvml.h declares by hand the slice of NVML flightdeck loads with dlopen. Its struct
# layouts, constants and symbol names, as the compiler sees them (tests/helpers/nvml_layout.c),
# are held to NVIDIA's own bindings, pynvml from nvidia-ml-py (tests/helpers/nvml_vs_pynvml.py);
# then doctored copies of the compiler's answer show that each kind of mismatch fails, named.
. "$TESTS_DIR/integration/lib.sh"

: "${NVML_LAYOUT:?NVML_LAYOUT must name the nvml_layout program}"
need_venv pynvml
CHECKER="$TESTS_DIR/helpers/nvml_vs_pynvml.py"
HEADER="$SRC_DIR/checks/hw/nvml.h"

"$NVML_LAYOUT" >"$TMP/layout" || fail "nvml_layout exited $?"
grep -q '^struct fd_nvmlPciInfo nvmlPciInfo_t ' "$TMP/layout" || fail "nvml_layout printed no PCI info layout"

# compare LAYOUT [HEADER]: the checker's output in $TMP/out, its status in $RC
compare() {
	RC=0
	"$FD_VENV_PY" "$CHECKER" "$1" "${2:-$HEADER}" >"$TMP/out" 2>"$TMP/err" || RC=$?
}

compare "$TMP/layout"
expect_rc 0
grep -q 'agree with pynvml' "$TMP/out" || fail "no summary line"
ok "nvml.h agrees with pynvml: $(cat "$TMP/out")"

# doctored SED-SCRIPT PATTERN WHAT: the layout edited by SED-SCRIPT fails, naming PATTERN
doctored() {
	sed "$1" "$TMP/layout" >"$TMP/doctored"
	cmp -s "$TMP/layout" "$TMP/doctored" && fail "the sed script '$1' changed nothing"
	compare "$TMP/doctored"
	expect_rc 1
	grep -q "^MISMATCH: .*$2" "$TMP/out" || fail "$3: no mismatch naming '$2'"
	ok "$3 fails: $(grep -m1 "$2" "$TMP/out")"
}

doctored 's/^const FD_NVML_NVLINK_MAX_LINKS \(.*\) [0-9]*$/const FD_NVML_NVLINK_MAX_LINKS \1 18/' \
	'FD_NVML_NVLINK_MAX_LINKS: 18' "a constant with the wrong value (the header's old NVLink count)"
doctored 's/^field nvmlPciInfo_t busId 36 /field nvmlPciInfo_t busId 40 /' \
	'nvmlPciInfo_t.busId: offset 40' "a field at the wrong offset"
doctored 's/^field c_nvmlMemory_t used 16 8 8 0/field c_nvmlMemory_t used 16 4 4 0/' \
	'c_nvmlMemory_t.used: size 4' "a field of the wrong size"
doctored 's/^field nvmlPciInfo_t busIdLegacy 0 16 1 16/field nvmlPciInfo_t busIdLegacy 0 16 4 4/' \
	'busIdLegacy: 4 elements of 4 bytes' "an array of the wrong element type"
doctored '/^field nvmlPciInfo_t pciSubSystemId /d' \
	'lacks field pciSubSystemId' "a struct missing a field"
doctored 's/^struct fd_nvmlMemory c_nvmlMemory_t 24/struct fd_nvmlMemory c_nvmlMemory_t 32/' \
	'struct fd_nvmlMemory: sizeof 32' "a struct of the wrong size"
doctored 's/^type fd_nvmlReturn_t _nvmlReturn_t 4/type fd_nvmlReturn_t _nvmlReturn_t 8/' \
	'type fd_nvmlReturn_t: sizeof 8' "a return type of the wrong size"
doctored 's/ nvmlDeviceGetNvLinkState$/ nvmlDeviceGetNvlinkState/' \
	'symbol nvmlDeviceGetNvlinkState' "a misspelt symbol name"
doctored 's/ nvmlDeviceGetCount_v2$/ nvmlDeviceGetCount_v9/' \
	'symbol nvmlDeviceGetCount_v9' "a made-up version suffix"

# A constant or struct the header gains without a line in nvml_layout.c is not let through.
{ cat "$HEADER"; printf '#define FD_NVML_NEW_THING 5\nstruct fd_nvmlNew {\n\tint x;\n};\n'; } >"$TMP/nvml.h"
compare "$TMP/layout" "$TMP/nvml.h"
expect_rc 1
grep -q '^MISMATCH: const FD_NVML_NEW_THING: declared in the header but not checked' "$TMP/out" ||
	fail "an unchecked constant passed"
grep -q '^MISMATCH: struct fd_nvmlNew: declared in the header but not checked' "$TMP/out" ||
	fail "an unchecked struct passed"
ok "a constant or struct of the header that nvml_layout.c does not print fails"
