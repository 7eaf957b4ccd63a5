# tests/require.sh - sourced by the shell tests: what to do when something
# a test needs is missing.  On a developer's machine the test is skipped
# (TAP "1..0 # SKIP"); under CI=true, or MJ_STRICT=1 (./run-tests sets it,
# since it installs every package), a missing dependency is a failure: a
# test that could not run is not a test that passed.
#   . "$(dirname "$0")/require.sh"; mj_missing "mandoc is not installed"
mj_strict() {
	[ "${CI:-}" = true ] || [ "${MJ_STRICT:-}" = 1 ]
}
mj_missing() {
	if mj_strict; then
		echo "not ok 1 - required but missing: $1"
		echo "1..1"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0
}
