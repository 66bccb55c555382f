# Sourced by the scripts that start servers on loopback ports; don't run it.

# free_port prints a TCP port on 127.0.0.1 that nothing listens on, taken
# below the kernel's ephemeral range (net.ipv4.ip_local_port_range). A
# server that a test stops and starts again on the same port (make faults
# restarts PostgreSQL and slapd) must not find the port taken meanwhile by
# the local end of some outgoing connection, which an ephemeral port can be:
# one CI run's PostgreSQL could not start again on 43380 that way.
free_port() {
	local low=32768 high p
	read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[ "$low" -gt 12000 ] || low=32768
	for _ in $(seq 1 200); do
		p=$((10000 + RANDOM % (low - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "free_port: no free loopback port below $low" >&2
	return 1
}
