# mk/lock.mk - reboot lock and reboot manager (docs/reboot-lock.md): test and demo dependencies.
# Tests start real etcd members on 127.0.0.1 (etcd-server), inspect them with etcdctl
# (etcd-client), and read JSON with jq; t0401 records the file backend's history with strace.
DEPS_APT += etcd-server etcd-client jq curl iproute2 util-linux strace
