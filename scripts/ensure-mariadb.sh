#!/usr/bin/env bash
# Makes sure the MariaDB server the tests use answers on 127.0.0.1:3306; starts it when it is down.
set -euo pipefail

ping_db() {
  if command -v mariadb-admin >/dev/null 2>&1; then
    mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1
  else
    mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1
  fi
}

if ping_db; then
  echo "MariaDB is up"
  exit 0
fi

echo "MariaDB is down; starting it"
start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
for _ in $(seq 1 60); do
  if ping_db; then
    echo "MariaDB is up"
    exit 0
  fi
  sleep 1
done
echo "MariaDB did not answer within 60 s" >&2
exit 1
