#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qmp.sh - send one command to a running QEMU over its QMP socket.
#
# Usage:  scripts/qmp.sh SOCKET COMMAND [ARGUMENTS-JSON]
#   e.g.  scripts/qmp.sh /tmp/x.qmp block_resize '{"device":"d0","size":134217728}'
#         scripts/qmp.sh /tmp/x.qmp query-block
#
# QMP (the QEMU Machine Protocol) is JSON over a socket: QEMU greets, the
# client must first send "qmp_capabilities", then commands; QEMU answers
# each with {"return": ...} or {"error": ...}.  socat does the socket work:
# it sends our lines, prints what QEMU says, and, once we are done writing,
# waits up to 5 s (-t 5) for the answers.
#
# Prints QEMU's answer to COMMAND (the last "return" or "error" line: QEMU
# may also send event lines); exit status 1 if it was an error.

set -euo pipefail

[[ $# -ge 2 ]] || { echo "usage: $0 SOCKET COMMAND [ARGUMENTS-JSON]" >&2; exit 2; }
sock=$1
cmd=$2
args=${3:-}

request="{\"execute\":\"$cmd\"${args:+,\"arguments\":$args}}"
reply=$(printf '%s\n%s\n' '{"execute":"qmp_capabilities"}' "$request" |
	socat -t 5 - "UNIX-CONNECT:$sock" |
	grep -E '"(return|error)"' | tail -n 1) || true
echo "$reply"
[[ $reply == *'"return"'* ]]
