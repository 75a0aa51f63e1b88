# test_make_deps.sh — the Makefile's dependency step: packages first, then the flags they give, then the build.
#
# Runs make in a copy of the tree with stand-ins for id, dpkg-query, apt-get and pkg-config on
# PATH (everything else real), so a machine that lacks packages is played without removing any.
source tests/harness/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/src
fake=$tmp/fake
mkdir -p "$src/tests" "$fake"
cp -R Makefile contrib src pgc "$src/"
cp -R tests/unit "$src/tests/"

# FAKE_UID: what `id -u` says. $fake/missing: packages dpkg-query reports as not installed until
# the apt-get stand-in "installs" them. pkg-config knows no `check` while check is missing, and
# appends $fake/suffix to every --modversion.
real_pkgconfig=$(command -v pkg-config)
real_dpkgquery=$(command -v dpkg-query)
cat >"$fake/id" <<-EOF
	#!/bin/sh
	[ "\$1" = -u ] && { echo "\${FAKE_UID:-0}"; exit 0; }
	exec /usr/bin/id "\$@"
EOF
cat >"$fake/dpkg-query" <<-EOF
	#!/bin/sh
	for p; do :; done
	grep -qx "\$p" "$fake/missing" 2>/dev/null && { echo not-installed; exit 0; }
	exec $real_dpkgquery "\$@"
EOF
cat >"$fake/apt-get" <<-EOF
	#!/bin/sh
	echo "apt-get \$*" >>"$fake/apt.log"
	[ "\$1" = update ] && exit 0
	for p; do sed -i "/^\$p\\\$/d" "$fake/missing"; done
EOF
cat >"$fake/pkg-config" <<-EOF
	#!/bin/sh
	case " \$* " in *" check "*) grep -qx check "$fake/missing" && exit 1 ;; esac
	case \$1 in --modversion) printf '%s%s\\n' "\$($real_pkgconfig "\$@")" "\$(cat "$fake/suffix" 2>/dev/null)"; exit ;; esac
	exec $real_pkgconfig "\$@"
EOF
chmod 755 "$fake"/*
# make as typed in a fresh checkout: none of the calling make's variables (SANITIZE, -j) reach it
fmake() { (cd "$src" && PATH=$fake:$PATH env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE make "$@"); }
# objects and binaries make wrote (contrib/logrotate/brotr is a file of the tree, not a build)
built() { { find "$src/build" \( -name '*.o' -o -name brotr \) -type f 2>/dev/null; [ -e "$src/brotr" ] && echo brotr; } | wc -l; }

# A non-root user on a machine that lacks check: the apt-get line, a failure, nothing built.
export FAKE_UID=1000
echo check >"$fake/missing"
t_status "as a user, make check with check missing fails" 2 fmake check
t_like "naming the exact apt-get line" "$T_ERR" "^  apt-get install check\$"
t_is "and builds nothing" "$(built)" "0"
t_is "not even the build directory" "$([ -e "$src/build" ] && echo exists)" ""
t_status "the same user's make (which needs no check) passes the dependency step" 0 \
	fmake build/flags/cc

# The fuzz harnesses need clang: make check names it before anything is compiled.
echo clang >"$fake/missing"
rm -rf "$src/build"
t_status "as a user, make check with clang missing fails" 2 fmake check
t_like "naming clang" "$T_ERR" "^  apt-get install clang\$"
t_is "before building anything" "$(built)" "0"

# Root on a machine that lacks check: make installs it, then links the tests with its flags.
FAKE_UID=0
echo check >"$fake/missing"
rm -rf "$src/build"
t_status "as root, make installs check and links a test in the same run" 0 fmake -j2 build/tests/test_util
t_like "the dependency step installed it" "$(cat "$fake/apt.log")" "install .*check"
t_like "the test linked against check" "$(cat "$src/build/config.mk")" "^CHECK_LIBS := .*-lcheck"
t_like "and runs" "$("$src/build/tests/test_util" 2>&1)" "Checks: [0-9]+, Failures: 0, Errors: 0"

# An object depends on the flags it was compiled with: new library versions rebuild main.o.
t_status "make builds brotr" 0 fmake -j2 build/brotr
t_like "with the libraries' versions" "$(cd "$src" && build/brotr version)" "built with: libwebsockets [0-9]"
echo "-fake1" >"$fake/suffix"
t_status "make after the versions changed" 0 fmake build/brotr
t_like "recompiles main.c" "$T_OUT" "CC +src/main.c"
t_unlike "and nothing else" "$T_OUT" "CC +src/(core|net|nostr)"
t_like "whose binary names the new versions" "$(cd "$src" && build/brotr version)" "libsecp256k1 [0-9.]+-fake1"
t_status "make again" 0 fmake build/brotr
t_unlike "compiles nothing" "$T_OUT" "CC |LINK "

# Compiler flags: a changed CFLAGS recompiles; hardened as Debian builds (-Werror is on).
t_like "the build is hardened" "$(cat "$src/build/flags/cc" "$src/build/flags/ld" | tr '\n' ' ')" \
	"-D_FORTIFY_SOURCE=2 .*-fstack-protector-strong .*-fPIE.*-pie -Wl,-z,relro,-z,now"
t_like "brotr is a PIE with immediate binding" "$(readelf -d "$src/build/brotr")" "Flags: NOW PIE"

t_done
