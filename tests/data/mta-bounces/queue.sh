# SPDX-License-Identifier: MIT
# Shared by make.sh and local/make.sh (sourced).

wait_for() {  # $1 = command that succeeds when the queue is empty, $2 = max seconds
    local i=0
    while ! eval "$1" >/dev/null 2>&1; do
        sleep 2; i=$((i+2)); [ $i -ge "$2" ] && { echo "timeout waiting for queue" >&2; return 0; }
    done
    sleep 3
}
