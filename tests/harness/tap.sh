# tap.sh — assertions for shell tests: one "ok - ..." or "not ok - ..." line each; t_done sets the status.
# Source it from a test script; tests/run counts the lines.

T_FAILED=0
T_COUNT=0
T_PLAN=""

# t_plan N: declares N assertions ("1..N"); t_done fails when a different number ran.
t_plan() {
	T_PLAN=$1
	echo "1..$1"
}

t_pass() { T_COUNT=$((T_COUNT + 1)); echo "ok - $1"; }
t_fail() {
	T_COUNT=$((T_COUNT + 1))
	echo "not ok - $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@"
	T_FAILED=$((T_FAILED + 1))
}

# t_is DESC GOT WANT
t_is() {
	if [ "$2" = "$3" ]; then t_pass "$1"; else t_fail "$1" "got:  $2" "want: $3"; fi
}

# t_set DESC GOT WANT: two newline-separated sets (order ignored); on a difference, says what is
# missing and what is extra instead of printing both sets.
t_set() {
	local missing extra
	missing=$(comm -13 <(printf '%s\n' "$2" | sed '/^$/d' | sort -u) <(printf '%s\n' "$3" | sed '/^$/d' | sort -u))
	extra=$(comm -23 <(printf '%s\n' "$2" | sed '/^$/d' | sort -u) <(printf '%s\n' "$3" | sed '/^$/d' | sort -u))
	if [ -z "$missing$extra" ]; then
		t_pass "$1"
	else
		t_fail "$1" "missing $(printf '%s' "$missing" | grep -c .): $(printf '%s' "$missing" | head -n 3 | tr '\n' ' ')" \
			"extra $(printf '%s' "$extra" | grep -c .): $(printf '%s' "$extra" | head -n 3 | tr '\n' ' ')"
	fi
}

# t_like DESC GOT EXTENDED-REGEX
t_like() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then t_pass "$1"; else t_fail "$1" "got:  $2" "want: /$3/"; fi
}

# t_unlike DESC GOT EXTENDED-REGEX
t_unlike() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then t_fail "$1" "got:  $2" "must not match: /$3/"; else t_pass "$1"; fi
}

# t_status DESC WANT-STATUS CMD [ARGS...]: runs CMD, keeps its output in T_OUT (stdout) and T_ERR (stderr).
t_status() {
	local desc=$1 want=$2 errf
	shift 2
	errf=$(mktemp)
	T_OUT=$("$@" 2>"$errf")
	T_RC=$?
	T_ERR=$(cat "$errf")
	rm -f "$errf"
	if [ "$T_RC" = "$want" ]; then t_pass "$desc"; else t_fail "$desc" "exit status $T_RC, want $want" "stderr: $T_ERR"; fi
}

t_done() {
	if [ -n "$T_PLAN" ] && [ "$T_COUNT" -ne "$T_PLAN" ]; then
		echo "not ok - the plan: $T_COUNT assertions ran, $T_PLAN declared"
		return 1
	fi
	[ "$T_FAILED" -eq 0 ]
}
