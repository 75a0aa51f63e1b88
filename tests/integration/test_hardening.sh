# test_hardening.sh — the binary keeps the hardening the Makefile asks for: PIE, full RELRO, a
# non-executable stack, the stack protector and _FORTIFY_SOURCE's checked calls (readelf).
source tests/harness/tap.sh
t_plan 6
t_like "a position-independent executable" "$(readelf -h "$BROTR")" "Type: +DYN \(Position-Independent Executable"
t_like "bound at start (-z now)" "$(readelf -d "$BROTR")" "\(FLAGS_1\) +Flags: NOW PIE"
t_like "relocations read-only after start (-z relro)" "$(readelf -lW "$BROTR")" "GNU_RELRO"
t_like "a stack that is not executable" "$(readelf -lW "$BROTR" | grep GNU_STACK)" " RW  "
syms=$(readelf -sW --dyn-syms "$BROTR")
t_like "the stack protector (-fstack-protector-strong)" "$syms" "__stack_chk_fail"
if [[ $BROTR == */san-* ]]; then
	t_pass "_FORTIFY_SOURCE's checked calls # SKIP sanitizer build (its interceptors replace them)"
else
	t_like "_FORTIFY_SOURCE's checked calls (-D_FORTIFY_SOURCE=2)" "$syms" "__(memcpy|snprintf|printf)_chk"
fi
t_done
