#!/bin/sh
# Installs and starts one shoal agent on a Debian 12 machine: Debian's
# containerd and runc, the shoal binary, /etc/shoal/agent.yaml and token,
# the shoal-agent systemd unit, and a CLI config for root and vagrant.
# Safe to run again (vagrant provision): it rewrites the files and restarts
# the agent, which adopts its running pods.
#
# Settings (environment):
#   SHOAL_NAME              node name (default: hostname)
#   SHOAL_IP                this machine's address on the fleet's network (required)
#   SHOAL_SERVER            1: hold a Raft seat (with SHOAL_BOOTSTRAP_EXPECT)
#   SHOAL_BOOTSTRAP_EXPECT  number of servers (default 3)
#   SHOAL_JOIN              comma-separated gossip addresses of the servers
#   SHOAL_ENCRYPT           gossip key (shoal keygen); empty: no encryption
#   SHOAL_TOKEN             API bearer token; empty: open API
#   SHOAL_TLS_CA, SHOAL_TLS_CERT, SHOAL_TLS_KEY
#                           PEM contents: TLS on the API and Raft (shoal tls ca|cert)
#   SHOAL_SRC               checkout holding bin/shoal and deploy/ (default /shoal)
#   SHOAL_ZONE              this node's zone (its topology.kubernetes.io/zone label)
#   SHOAL_SEAT_ZONE         the zone whose agents take Raft seats first
#   SHOAL_GOSSIP_PROFILE    lan (default) or wan: gossip timings for a slow uplink
#   SHOAL_LINK_DELAY        e.g. 100ms: delay every packet this machine sends on
#                           its fleet address's link (tc netem), an edge site's uplink
#   SHOAL_ROOT              install under this directory instead of / (for tests;
#                           with it, nothing is installed with apt or started)
set -eu

name=${SHOAL_NAME:-$(hostname)}
ip=${SHOAL_IP:?"the address of this machine on the fleet network is required"}
server=${SHOAL_SERVER:-0}
expect=${SHOAL_BOOTSTRAP_EXPECT:-3}
join=${SHOAL_JOIN:-}
encrypt=${SHOAL_ENCRYPT:-}
token=${SHOAL_TOKEN:-}
src=${SHOAL_SRC:-/shoal}
root=${SHOAL_ROOT:-}
tls_ca=${SHOAL_TLS_CA:-}
tls_cert=${SHOAL_TLS_CERT:-}
tls_key=${SHOAL_TLS_KEY:-}
zone=${SHOAL_ZONE:-}
seat_zone=${SHOAL_SEAT_ZONE:-}
gossip_profile=${SHOAL_GOSSIP_PROFILE:-}
link_delay=${SHOAL_LINK_DELAY:-}
scheme=http
if [ -n "$tls_cert" ]; then
	scheme=https
fi

say() { echo "shoal-provision[$name]: $*"; }

if [ ! -x "$src/bin/shoal" ]; then
	echo "shoal-provision: $src/bin/shoal is missing: run 'make build' in the checkout, then 'vagrant provision'" >&2
	exit 1
fi

# What a node needs from Debian. The lab's machines (shoal lab up --machines)
# read this line to preinstall the same packages in their root, since they
# have no route to a mirror; only what is missing is fetched.
packages="containerd runc iproute2 busybox-static ca-certificates curl"

if [ -z "$root" ]; then
	missing=
	for p in $packages; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		say "installing$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q
		# shellcheck disable=SC2086 # one word per package
		apt-get install -y -q --no-install-recommends $missing
	fi
	systemctl enable --now containerd
fi

install -d -m 0755 "$root/usr/local/bin" "$root/etc/systemd/system" "$root/etc/sysctl.d"
install -d -m 0700 "$root/etc/shoal" "$root/var/lib/shoal"
install -m 0755 "$src/bin/shoal" "$root/usr/local/bin/shoal"
install -m 0644 "$src/deploy/systemd/shoal-agent.service" "$root/etc/systemd/system/shoal-agent.service"

# Pods reach pods on other nodes through this machine's routing.
cat > "$root/etc/sysctl.d/90-shoal.conf" <<SYSCTL
net.ipv4.ip_forward = 1
SYSCTL

conf="$root/etc/shoal/agent.yaml"
{
	echo "# Written by deploy/vagrant/provision.sh; keys are the flags of shoal agent."
	echo "name: $name"
	echo "bind-addr: $ip"
	echo "advertise-addr: $ip"
	echo "data-dir: /var/lib/shoal"
	if [ -n "$join" ]; then
		echo "join:"
		echo "$join" | tr ',' '\n' | sed 's/^/  - /'
	fi
	if [ "$server" = 1 ]; then
		echo "bootstrap-expect: $expect"
	fi
	if [ -n "$encrypt" ]; then
		echo "encrypt: $encrypt"
	fi
	if [ -n "$token" ]; then
		echo "token-file: /etc/shoal/token"
	fi
	if [ -n "$tls_cert" ]; then
		echo "tls-cert: /etc/shoal/tls/agent.pem"
		echo "tls-key: /etc/shoal/tls/agent-key.pem"
		echo "tls-ca: /etc/shoal/tls/ca.pem"
	fi
	if [ -n "$zone" ]; then
		echo "zone: $zone"
	fi
	if [ -n "$seat_zone" ]; then
		echo "seat-zone: $seat_zone"
	fi
	if [ -n "$gossip_profile" ]; then
		echo "gossip-profile: $gossip_profile"
	fi
	echo "log-json: true"
} > "$conf.new"
chmod 0600 "$conf.new"
mv "$conf.new" "$conf"
if [ -n "$token" ]; then
	umask 077
	printf '%s\n' "$token" > "$root/etc/shoal/token"
fi
if [ -n "$tls_cert" ]; then
	install -d -m 0700 "$root/etc/shoal/tls"
	printf '%s\n' "$tls_ca" > "$root/etc/shoal/tls/ca.pem"
	printf '%s\n' "$tls_cert" > "$root/etc/shoal/tls/agent.pem"
	(umask 077 && printf '%s\n' "$tls_key" > "$root/etc/shoal/tls/agent-key.pem")
fi

# The CLI of root and of the vagrant user talk to this machine's agent.
cli_config() {
	install -d -m 0700 "$1/.config/shoal"
	{
		echo "server: $scheme://$ip:7080"
		[ -z "$token" ] || echo "token: $token"
		if [ -n "$tls_ca" ]; then
			printf '%s\n' "$tls_ca" > "$1/.config/shoal/ca.pem"
			echo "certificate-authority: ${1#"$root"}/.config/shoal/ca.pem"
		fi
	} > "$1/.config/shoal/config.yaml"
	chmod 0600 "$1/.config/shoal/config.yaml"
}
cli_config "$root/root"
if [ -z "$root" ] && id vagrant >/dev/null 2>&1; then
	cli_config /home/vagrant
	chown -R vagrant:vagrant /home/vagrant/.config
fi

if [ -n "$root" ]; then
	say "installed under $root (no apt, no systemd)"
	exit 0
fi

# An edge site's slow uplink, simulated: every packet this machine sends on
# its fleet link waits. Replaced on each run; not kept across a reboot.
if [ -n "$link_delay" ]; then
	dev=$(ip -o addr show to "$ip" | awk '{print $2; exit}')
	if [ -z "$dev" ]; then
		echo "shoal-provision: SHOAL_LINK_DELAY: no link holds $ip" >&2
		exit 1
	fi
	modprobe sch_netem 2>/dev/null || true
	tc qdisc replace dev "$dev" root netem delay "$link_delay"
	say "delaying what $dev sends by $link_delay"
fi

# Only this file: the rest of /etc/sysctl.d is not ours to re-apply.
sysctl -q -p /etc/sysctl.d/90-shoal.conf
systemctl daemon-reload
systemctl enable shoal-agent
systemctl restart shoal-agent

say "waiting for the agent's API"
i=0
cacert=
if [ -n "$tls_cert" ]; then
	cacert="--cacert /etc/shoal/tls/ca.pem"
fi
# shellcheck disable=SC2086 # $cacert is two words or none
until curl -fsS $cacert "$scheme://$ip:7080/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -ge 60 ]; then
		journalctl -u shoal-agent -n 50 --no-pager >&2
		echo "shoal-provision: the agent did not answer on $ip:7080" >&2
		exit 1
	fi
	sleep 1
done

# A busybox image built from Debian's busybox-static, so the examples run
# without a registry.
say "importing the busybox image into this node"
shoal image build-busybox -o /var/lib/shoal/busybox.tar >/dev/null
i=0
until HOME=/root shoal image import /var/lib/shoal/busybox.tar --node "$name" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -ge 60 ]; then
		echo "shoal-provision: busybox import failed; retry: shoal image import /var/lib/shoal/busybox.tar --node $name" >&2
		break
	fi
	sleep 2
done
say "agent running; try: shoal get nodes -o wide"
