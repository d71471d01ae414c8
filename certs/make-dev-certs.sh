#!/usr/bin/env bash
# Creates DEVELOPMENT-ONLY TLS and JWT keys for demos and tests: a throwaway local CA,
# a localhost server certificate, a mutual-TLS client certificate and an ES384 key pair
# for signing EHR JWTs. Never use these files in production.
#
# Usage: certs/make-dev-certs.sh [--force] [OUTDIR]
#   OUTDIR defaults to certs/dev in the repository root.
#   --force regenerates everything even if the current set is still valid.
set -euo pipefail

usage() { sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"

force=0
outdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "make-dev-certs: unknown option $1" >&2; usage >&2; exit 2 ;;
    *)
      if [ -n "$outdir" ]; then echo "make-dev-certs: only one OUTDIR allowed" >&2; exit 2; fi
      outdir="$1" ;;
  esac
  shift
done
outdir="${outdir:-$repo_root/certs/dev}"

command -v openssl >/dev/null || { echo "make-dev-certs: openssl not found (run deploy/install-deps.sh)" >&2; exit 1; }

keys=(ca.key server.key client.key ehr-es384.key)
public=(ca.crt server.crt server-chain.crt client.crt ehr-es384.pub.pem)

ca_days=825      # CA lifetime: the 825-day ceiling clients such as macOS/iOS enforce
leaf_days=397    # leaf lifetime: stays within the 398-day limit browsers apply to TLS certs
checkend=$((7 * 24 * 3600))

# Prints the public key of a private key / certificate so pairs can be compared
# without ever printing the private key itself.
pub_of_key() { openssl pkey -in "$1" -pubout 2>/dev/null; }
pub_of_cert() { openssl x509 -in "$1" -noout -pubkey 2>/dev/null; }

# True when the existing set is complete and usable, so reruns are cheap no-ops.
existing_set_ok() {
  local f
  for f in "${keys[@]}" "${public[@]}"; do [ -s "$outdir/$f" ] || return 1; done
  openssl verify -CAfile "$outdir/ca.crt" "$outdir/server.crt" "$outdir/client.crt" >/dev/null 2>&1 || return 1
  openssl x509 -checkend "$checkend" -noout -in "$outdir/server.crt" >/dev/null 2>&1 || return 1
  openssl x509 -checkend "$checkend" -noout -in "$outdir/client.crt" >/dev/null 2>&1 || return 1
  [ "$(pub_of_key "$outdir/server.key")" = "$(pub_of_cert "$outdir/server.crt")" ] || return 1
  [ "$(pub_of_key "$outdir/client.key")" = "$(pub_of_cert "$outdir/client.crt")" ] || return 1
  [ "$(pub_of_key "$outdir/ehr-es384.key")" = "$(cat "$outdir/ehr-es384.pub.pem")" ] || return 1
}

list_files() {
  local f
  for f in "${public[@]}" "${keys[@]}"; do echo "  $outdir/$f"; done
}

mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"

if [ "$force" -eq 0 ] && existing_set_ok; then
  echo "make-dev-certs: valid development certificates already in $outdir (use --force to regenerate)"
  exit 0
fi

# umask 077 so private keys are never readable by others, not even briefly.
umask 077
work="$(mktemp -d "$outdir/.make-dev-certs.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Runs openssl quietly; shows its stderr only on failure (openssl never writes keys there).
ossl() {
  if ! openssl "$@" 2>"$work/openssl.err"; then
    echo "make-dev-certs: openssl $1 failed:" >&2
    cat "$work/openssl.err" >&2
    exit 1
  fi
}

# genpkey writes PKCS#8 PEM; named_curve keeps the key usable by every TLS/JWT library.
new_p384_key() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve -out "$1"; }

# 128-bit random serials: unique without keeping a serial file next to the CA.
serial() { echo "0x$(openssl rand -hex 16)"; }

# A private config so the host's openssl.cnf cannot add or change extensions.
cat >"$work/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

echo "make-dev-certs: generating development-only CA, server, client and EHR JWT keys"

new_p384_key "$work/ca.key"
ossl req -config "$work/openssl.cnf" -new -x509 -sha384 -key "$work/ca.key" \
  -subj "/O=CDS Hooks dev/CN=CDS Hooks development CA (NOT FOR PRODUCTION)" \
  -days "$ca_days" -set_serial "$(serial)" -extensions ca_ext -out "$work/ca.crt"

# Issues a leaf certificate: issue <name> <subject> <extension section>
issue() {
  new_p384_key "$work/$1.key"
  ossl req -config "$work/openssl.cnf" -new -sha384 -key "$work/$1.key" -subj "$2" -out "$work/$1.csr"
  ossl x509 -req -sha384 -in "$work/$1.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
    -set_serial "$(serial)" -days "$leaf_days" \
    -extfile "$work/openssl.cnf" -extensions "$3" -out "$work/$1.crt"
}
issue server "/O=CDS Hooks dev/CN=localhost" server_ext
issue client "/O=CDS Hooks dev/CN=demo-ehr" client_ext
cat "$work/server.crt" "$work/ca.crt" >"$work/server-chain.crt"

new_p384_key "$work/ehr-es384.key"
ossl pkey -in "$work/ehr-es384.key" -pubout -out "$work/ehr-es384.pub.pem"

# Sanity-check before replacing anything in OUTDIR.
ossl verify -CAfile "$work/ca.crt" "$work/server.crt" "$work/client.crt" >/dev/null

chmod 600 "$work"/*.key
chmod 644 "$work"/*.crt "$work/ehr-es384.pub.pem"
for f in "${keys[@]}" "${public[@]}"; do mv -f "$work/$f" "$outdir/$f"; done

echo "make-dev-certs: wrote (development only, never production keys):"
list_files
echo "  CA certificate valid $ca_days days; server/client certificates valid $leaf_days days."
