#!/bin/sh
# HAProxy external check of a MariaDB Galera node: healthy when it is ready for queries
# (wsrep_ready=ON) and Synced (wsrep_local_state=4), which a node outside the primary component,
# joining or acting as a donor is not. HAProxy calls it with
#   <proxy address> <proxy port> <server address> <server port>
# and counts exit status 0 as up. The user needs no privileges (SHOW STATUS).
set -u
user=${GALERA_CHECK_USER:-haproxy_check}
status=$(mariadb --connect-timeout=2 --host="$3" --port="$4" --user="$user" \
  --skip-column-names --batch \
  --execute="SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready','wsrep_local_state')" \
  2>/dev/null) || exit 1
echo "$status" | grep -q '^wsrep_ready[[:space:]]*ON$' || exit 1
echo "$status" | grep -q '^wsrep_local_state[[:space:]]*4$' || exit 1
exit 0
