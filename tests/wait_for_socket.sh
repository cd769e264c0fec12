# SPDX-License-Identifier: MIT
# Sourced by the shell scripts that start a supervisor.
# wait_for_socket SOCKET LOG TRIES: waits until the supervisor listens on
# SOCKET (the socket appears once it does), checking every 0.1 s; after
# TRIES checks, prints the supervisor's LOG and exits 1.
wait_for_socket() {
	tries=0
	until [ -S "$1" ]; do
		tries=$((tries + 1))
		if [ "$tries" -gt "$3" ]; then
			cat "$2"
			exit 1
		fi
		sleep 0.1
	done
}
