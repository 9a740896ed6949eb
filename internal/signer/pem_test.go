/*
Copyright 2026 The authstack Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package signer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParsePEMFormats parses each accepted block type, as produced by the
// Go encoders.
func TestParsePEMFormats(t *testing.T) {
	p256 := newPrivate(t, AlgES256).(*ecdsa.PrivateKey)
	p384 := newPrivate(t, AlgES384).(*ecdsa.PrivateKey)
	ed := newPrivate(t, AlgEdDSA).(ed25519.PrivateKey)
	rsaKey := newPrivate(t, AlgRS256).(*rsa.PrivateKey)

	sec1, err := x509.MarshalECPrivateKey(p256)
	must(t, err)
	sec1_384, err := x509.MarshalECPrivateKey(p384)
	must(t, err)
	ecParams := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}})

	for _, tc := range []struct {
		name    string
		data    []byte
		alg     string
		private bool
	}{
		{"pkcs8 p256", pkcs8PEM(t, p256), AlgES256, true},
		{"pkcs8 p384", pkcs8PEM(t, p384), AlgES384, true},
		{"pkcs8 ed25519", pkcs8PEM(t, ed), AlgEdDSA, true},
		{"pkcs8 rsa", pkcs8PEM(t, rsaKey), AlgRS256, true},
		{"sec1 p256", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), AlgES256, true},
		{"sec1 p384 after ec parameters", append(ecParams, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1_384})...), AlgES384, true},
		{"pkcs1 rsa", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), AlgRS256, true},
		{"pkix p256", publicPEM(t, p256.Public()), AlgES256, false},
		{"pkix ed25519", publicPEM(t, ed.Public()), AlgEdDSA, false},
		{"pkix rsa", publicPEM(t, rsaKey.Public()), AlgRS256, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ParsePEM(tc.data)
			must(t, err)
			if len(keys) != 1 {
				t.Fatalf("got %d keys, want 1", len(keys))
			}
			k := keys[0]
			if k.Alg != tc.alg || k.CanSign() != tc.private || k.ID == "" {
				t.Errorf("key = %v, want %s private=%v", k, tc.alg, tc.private)
			}
		})
	}

	t.Run("several blocks", func(t *testing.T) {
		data := bytes.Join([][]byte{pkcs8PEM(t, p256), ecParams, publicPEM(t, ed.Public())}, []byte("\n"))
		keys, err := ParsePEM(data)
		must(t, err)
		if len(keys) != 2 || keys[0].Alg != AlgES256 || keys[1].Alg != AlgEdDSA {
			t.Fatalf("keys = %v", keys)
		}
	})
	t.Run("public matches private", func(t *testing.T) {
		priv, err := ParsePEM(pkcs8PEM(t, p256))
		must(t, err)
		pub, err := ParsePEM(publicPEM(t, p256.Public()))
		must(t, err)
		if priv[0].ID != pub[0].ID || !priv[0].sameKey(pub[0]) {
			t.Errorf("private %v and public %v differ", priv[0], pub[0])
		}
	})
}

// TestParsePEMOpenSSL parses the fixtures written by testdata/gen.sh.
func TestParsePEMOpenSSL(t *testing.T) {
	for _, tc := range []struct {
		file    string
		alg     string
		private bool
	}{
		{"genpkey_p256.pem", AlgES256, true},
		{"genpkey_p384.pem", AlgES384, true},
		{"genpkey_ed25519.pem", AlgEdDSA, true},
		{"genpkey_rsa2048.pem", AlgRS256, true},
		{"ecparam_p256.pem", AlgES256, true},
		{"ecparam_p384_noout.pem", AlgES384, true},
		{"genrsa_traditional_2048.pem", AlgRS256, true},
		{"genrsa_2048.pem", AlgRS256, true},
		{"pubout_p256.pem", AlgES256, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			keys := parseFixture(t, tc.file)
			if len(keys) != 1 {
				t.Fatalf("got %d keys, want 1", len(keys))
			}
			if k := keys[0]; k.Alg != tc.alg || k.CanSign() != tc.private {
				t.Errorf("key = %v, want %s private=%v", k, tc.alg, tc.private)
			}
		})
	}
	t.Run("pubout kid", func(t *testing.T) {
		priv, pub := parseFixture(t, "genpkey_p256.pem")[0], parseFixture(t, "pubout_p256.pem")[0]
		if priv.ID != pub.ID {
			t.Errorf("kid of private %s != kid of public %s", priv.ID, pub.ID)
		}
	})
	t.Run("signs", func(t *testing.T) {
		for _, f := range []string{"genpkey_ed25519.pem", "ecparam_p256.pem", "genrsa_traditional_2048.pem"} {
			k := parseFixture(t, f)[0]
			ks, err := NewKeySet(k)
			must(t, err)
			if _, err := ks.Sign(testClaims()); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	})
}

func parseFixture(t *testing.T, name string) []*Key {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	must(t, err)
	keys, err := ParsePEM(data)
	if err != nil {
		t.Fatalf("ParsePEM(%s): %v", name, err)
	}
	return keys
}

// TestParsePEMRefuses checks the errors for unusable input, and that they
// never echo the input.
func TestParsePEMRefuses(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	must(t, err)
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	must(t, err)
	fixture := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		must(t, err)
		return data
	}

	for _, tc := range []struct {
		name   string
		data   []byte
		target error  // errors.Is target, if any
		substr string // expected in the message
	}{
		{"rsa 1024 pkcs8", pkcs8PEM(t, weak), ErrUnsupportedKey, "1024 bits"},
		{"rsa 1024 pkcs1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(weak)}), ErrUnsupportedKey, "1024 bits"},
		{"rsa 1024 public", publicPEM(t, weak.Public()), ErrUnsupportedKey, "1024 bits"},
		{"rsa 1024 openssl", fixture("genrsa_1024.pem"), ErrUnsupportedKey, "1024 bits"},
		{"p521", pkcs8PEM(t, p521), ErrUnsupportedKey, "P-521"},
		{"p521 openssl", fixture("genpkey_p521.pem"), ErrUnsupportedKey, "P-521"},
		{"secp256k1 openssl", fixture("ecparam_secp256k1.pem"), nil, "sec1"},
		{"encrypted pkcs8", fixture("encrypted_pkcs8.pem"), ErrEncryptedKey, "encrypted"},
		{"encrypted traditional", fixture("encrypted_traditional.pem"), ErrEncryptedKey, "encrypted"},
		{"certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}), nil, "unsupported pem block type"},
		{"garbage der", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("secretsecret")}), nil, "pkcs8"},
		{"only ec parameters", pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 1, 1}}), nil, "no key found"},
		{"not pem", []byte("hello"), nil, "no key found"},
		{"empty", nil, nil, "no key found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ParsePEM(tc.data)
			if err == nil {
				t.Fatalf("ParsePEM = %v, want error", keys)
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("error %q is not %v", err, tc.target)
			}
			if !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %q does not mention %q", err, tc.substr)
			}
			if len(tc.data) > 0 && strings.Contains(err.Error(), "secretsecret") {
				t.Errorf("error %q echoes the input", err)
			}
			if len(err.Error()) > 300 {
				t.Errorf("error too long: %q", err)
			}
		})
	}
}

// TestGenerate covers the dev key generator.
func TestGenerate(t *testing.T) {
	for alg, want := range map[string]string{"": AlgES256, AlgES256: AlgES256, AlgES384: AlgES384, AlgEdDSA: AlgEdDSA, AlgRS256: AlgRS256} {
		k, err := Generate(alg)
		must(t, err)
		if k.Alg != want || !k.CanSign() {
			t.Errorf("Generate(%q) = %v", alg, k)
		}
	}
	if _, err := Generate("HS256"); err == nil {
		t.Error("Generate(HS256) succeeded")
	}
}

// FuzzParsePEM checks that no input panics and that every key returned is
// usable.
func FuzzParsePEM(f *testing.F) {
	for _, name := range []string{"genpkey_p256.pem", "ecparam_p256.pem", "pubout_p256.pem", "genpkey_ed25519.pem", "genrsa_1024.pem"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParsePEM(data)
		if err != nil {
			return
		}
		for _, k := range keys {
			if k.ID == "" || k.Alg == "" || k.Public == nil {
				t.Fatalf("incomplete key %v", k)
			}
		}
	})
}

// EncodePEM writes what ParsePEM reads back, for every algorithm, and
// refuses a verify-only key.
func TestEncodePEM(t *testing.T) {
	for _, alg := range []string{AlgES256, AlgES384, AlgEdDSA, AlgRS256} {
		k, err := Generate(alg)
		must(t, err)
		data, err := k.EncodePEM()
		must(t, err)
		if !bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----\n")) {
			t.Fatalf("%s: not a PKCS #8 block: %.40q", alg, data)
		}
		keys, err := ParsePEM(data)
		must(t, err)
		if len(keys) != 1 || keys[0].ID != k.ID || keys[0].Alg != alg || !keys[0].CanSign() {
			t.Fatalf("%s: round trip gave %v", alg, keys)
		}
	}
	k, err := Generate(AlgES256)
	must(t, err)
	pub, err := NewPublicKey(k.Public)
	must(t, err)
	if _, err := pub.EncodePEM(); err == nil {
		t.Fatal("EncodePEM of a verify-only key: no error")
	}
}
