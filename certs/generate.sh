#!/usr/bin/env sh
# Generates a complete TEST PKI with OpenSSL: a CA, a Mosquitto server certificate, a client
# certificate for the bridge, a client certificate for the broker's compose healthcheck, and
# (optionally) a passphrase-protected copy of the bridge's client key.
# For tests, demos and local compose only; see certs/README.md for production certificates.
#
#   certs/generate.sh [--out DIR] [--days N] [--client-cn NAME] [--server-dns "a,b"]
#                     [--server-ip "127.0.0.1"] [--encrypted-key] [--force]
#                     [--healthcheck-cn NAME] [--container-owners]
#                     [--broker-uid N] [--bridge-uid N]
#
# Idempotent: existing files that are still valid for a day are kept unless --force is given.
# Private keys are written with mode 0600; nothing here is ever committed (see .gitignore).
# --container-owners gives each key to the container user that reads it, mode 0600 kept:
# server.key and healthcheck.key to the broker (uid 1883), client.key (and the encrypted copy
# and its passphrase) to the bridge (uid 10001). It needs root; otherwise it prints the exact
# commands to run and exits with status 3.
set -eu

out="$(dirname "$0")/out"
days=30
client_cn="mcp-bridge"
server_dns="mosquitto,localhost"
server_ip="127.0.0.1"
encrypted=0
force=0
healthcheck_cn="broker-healthcheck"
owners=0
broker_uid=1883
bridge_uid=10001

while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --client-cn) client_cn="$2"; shift 2 ;;
    --server-dns) server_dns="$2"; shift 2 ;;
    --server-ip) server_ip="$2"; shift 2 ;;
    --encrypted-key) encrypted=1; shift ;;
    --force) force=1; shift ;;
    --healthcheck-cn) healthcheck_cn="$2"; shift 2 ;;
    --container-owners) owners=1; shift ;;
    --broker-uid) broker_uid="$2"; shift 2 ;;
    --bridge-uid) bridge_uid="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "generate.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

command -v openssl >/dev/null 2>&1 || { echo "generate.sh: openssl is required" >&2; exit 1; }
mkdir -p "$out"
umask 077
cd "$out"

valid() { [ -f "$1" ] && openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1; }

# Give each key to the container user that reads it (mode 0600 stays).
set_owners() {
  broker_files="server.key healthcheck.key"
  bridge_files="client.key"
  [ -f client-encrypted.key ] && bridge_files="$bridge_files client-encrypted.key"
  [ -f client-key-passphrase.txt ] && bridge_files="$bridge_files client-key-passphrase.txt"
  if [ "$(id -u)" -ne 0 ]; then
    dir="$(pwd)"
    echo "generate.sh: --container-owners needs root. Run:" >&2
    printf '  sudo chown %s' "$broker_uid:$broker_uid" >&2
    for f in $broker_files; do printf ' %s' "$dir/$f" >&2; done
    printf '\n  sudo chown %s' "$bridge_uid:$bridge_uid" >&2
    for f in $bridge_files; do printf ' %s' "$dir/$f" >&2; done
    printf '\n' >&2
    exit 3
  fi
  # shellcheck disable=SC2086
  chown "$broker_uid:$broker_uid" $broker_files
  # shellcheck disable=SC2086
  chown "$bridge_uid:$bridge_uid" $bridge_files
  # shellcheck disable=SC2086
  chmod 600 $broker_files $bridge_files
  echo "generate.sh: keys owned by uid $broker_uid (broker: $broker_files) and uid $bridge_uid (bridge: $bridge_files), mode 0600" >&2
}

if [ "$force" -eq 0 ] && valid ca.crt && valid server.crt && valid client.crt && valid healthcheck.crt \
   && [ -f ca.key ] && [ -f server.key ] && [ -f client.key ] && [ -f healthcheck.key ] \
   && { [ "$encrypted" -eq 0 ] || [ -f client-encrypted.key ]; }; then
  echo "generate.sh: test PKI in $out is present and valid; use --force to regenerate" >&2
  [ "$owners" -eq 1 ] && set_owners
  exit 0
fi

rm -f ca.* server.* client.* healthcheck.* client-encrypted.key client-key-passphrase.txt

san=""
old_ifs=$IFS; IFS=,
for name in $server_dns; do [ -n "$name" ] && san="${san:+$san,}DNS:$name"; done
for ip in $server_ip; do [ -n "$ip" ] && san="${san:+$san,}IP:$ip"; done
IFS=$old_ifs

# CA
openssl ecparam -name prime256v1 -genkey -noout -out ca.key
openssl req -x509 -new -key ca.key -sha256 -days "$days" -subj "/O=mqtt-mcp-bridge TEST ONLY/CN=TEST ONLY mqtt-mcp-bridge CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt

# Broker (server) certificate; the SANs cover every name clients use.
openssl ecparam -name prime256v1 -genkey -noout -out server.key
openssl req -new -key server.key -subj "/O=mqtt-mcp-bridge TEST ONLY/CN=TEST ONLY mosquitto" -out server.csr
printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
  'extendedKeyUsage=serverAuth' "subjectAltName=$san" > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" -sha256 \
  -extfile server.ext -out server.crt 2>/dev/null

# Client certificates; with use_identity_as_username their CN is the MQTT user name.
printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature' 'extendedKeyUsage=clientAuth' > client.ext
issue_client() { # file-stem CN
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key"
  openssl req -new -key "$1.key" -subj "/O=mqtt-mcp-bridge TEST ONLY/CN=$2" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" -sha256 \
    -extfile client.ext -out "$1.crt" 2>/dev/null
}
# The bridge.
issue_client client "$client_cn"
# The broker's compose healthcheck (mosquitto_sub reads $SYS/broker/uptime with it).
issue_client healthcheck "$healthcheck_cn"

if [ "$encrypted" -eq 1 ]; then
  openssl rand -hex 16 > client-key-passphrase.txt
  openssl pkcs8 -topk8 -in client.key -v2 aes-256-cbc -passout file:client-key-passphrase.txt -out client-encrypted.key
fi

rm -f server.csr client.csr healthcheck.csr server.ext client.ext ca.srl
chmod 600 ./*.key
[ -f client-key-passphrase.txt ] && chmod 600 client-key-passphrase.txt
chmod 644 ./*.crt
openssl verify -CAfile ca.crt server.crt client.crt healthcheck.crt >/dev/null
echo "generate.sh: wrote a TEST ONLY PKI (valid $days days) to $out" >&2
[ "$owners" -eq 1 ] && set_owners
exit 0
