#!/bin/sh
# A half-installed MPI must not fail the build: an mpicc wrapper whose MPI headers and libmpi
# are missing (openmpi-bin without libopenmpi-dev) makes CMake's FindMPI stop the configure
# with an error, QUIET or not. The top-level CMakeLists.txt asks the wrapper to build an MPI
# program first; here a wrapper that cannot configures the tree without MPI, and says why.
. "$TESTS_DIR/integration/lib.sh"
: "${SRC_DIR:?SRC_DIR must point at the source tree}"

command -v cmake >/dev/null 2>&1 || skip "cmake is not on PATH"
mkdir -p "$TMP/mpi/bin"
# The wrapper as Open MPI's answers FindMPI, for an MPI whose files are not there.
cat >"$TMP/mpi/bin/mpicc" <<EOF
#!/bin/sh
case "\$1" in
-showme:compile|--showme:compile) echo "-I$TMP/mpi/include -pthread" ;;
-showme:link|--showme:link) echo "-pthread -L$TMP/mpi/lib -lmpi" ;;
-showme:incdirs|--showme:incdirs) echo "$TMP/mpi/include" ;;
-showme:libdirs|--showme:libdirs) echo "$TMP/mpi/lib" ;;
-showme:libs|--showme:libs) echo "mpi" ;;
-showme|--showme) echo "cc -I$TMP/mpi/include -pthread -L$TMP/mpi/lib -lmpi" ;;
*) exec cc -I"$TMP/mpi/include" -pthread "\$@" -L"$TMP/mpi/lib" -lmpi ;;
esac
EOF
chmod +x "$TMP/mpi/bin/mpicc"

RC=0
cmake -S "$SRC_DIR" -B "$TMP/build" -DFLIGHTDECK_WITH_CUDA=OFF -DMPI_C_COMPILER="$TMP/mpi/bin/mpicc" \
	>"$TMP/out" 2>"$TMP/err" || RC=$?
expect_rc 0
grep -q "flightdeck: $TMP/mpi/bin/mpicc cannot build an MPI program" "$TMP/out" ||
	fail "the configure does not say why MPI is off"
grep -q 'flightdeck: MPI not found (optional)' "$TMP/out" || fail "MPI is not reported off"
grep -q '^#define FD_HAVE_MPI *0$' "$TMP/build/gen/build_config.h" ||
	fail "build_config.h does not say FD_HAVE_MPI 0"
ok "an mpicc without MPI's headers: the configure succeeds without MPI and says why"

# The same wrapper found on PATH rather than named: the same outcome.
RC=0
PATH="$TMP/mpi/bin:$PATH" cmake -S "$SRC_DIR" -B "$TMP/build2" -DFLIGHTDECK_WITH_CUDA=OFF \
	>"$TMP/out" 2>"$TMP/err" || RC=$?
expect_rc 0
grep -q 'flightdeck: MPI not found (optional)' "$TMP/out" || fail "MPI is not reported off"
ok "the same mpicc first on PATH: the configure succeeds without MPI"
