#!/bin/sh
# Regenerates the OpenSSL-written key fixtures used by the signer tests.
# The fixtures are committed so the tests never need openssl at runtime.
# These keys are test material only: never use them outside tests.
set -eu
cd "$(dirname "$0")"

# PKCS#8 "PRIVATE KEY" (openssl genpkey).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out genpkey_p256.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out genpkey_p384.pem
openssl genpkey -algorithm ED25519 -out genpkey_ed25519.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out genpkey_rsa2048.pem

# SEC1 "EC PRIVATE KEY", with and without the leading "EC PARAMETERS" block.
openssl ecparam -name prime256v1 -genkey -out ecparam_p256.pem
openssl ecparam -name secp384r1 -genkey -noout -out ecparam_p384_noout.pem

# PKCS#1 "RSA PRIVATE KEY" (OpenSSL 3 genrsa writes PKCS#8 unless -traditional).
openssl genrsa -traditional -out genrsa_traditional_2048.pem 2048
openssl genrsa -out genrsa_2048.pem 2048

# "PUBLIC KEY" (SubjectPublicKeyInfo) of the P-256 key above.
openssl pkey -in genpkey_p256.pem -pubout -out pubout_p256.pem

# Refused: weak RSA, unsupported curves, encrypted keys.
openssl genrsa -traditional -out genrsa_1024.pem 1024
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out genpkey_p521.pem
openssl ecparam -name secp256k1 -genkey -noout -out ecparam_secp256k1.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc -pass pass:test -out encrypted_pkcs8.pem
openssl genrsa -traditional -aes256 -passout pass:test -out encrypted_traditional.pem 2048
