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

// Package password hashes and verifies resource-owner passwords: argon2id in
// PHC string format by default, bcrypt hashes accepted. Verification runs in
// constant time with respect to the password, and a Verifier spends the same
// work on an unknown user as on a wrong password.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id parameters. Memory is in KiB.
type Params struct {
	Memory  uint32
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams follow the OWASP Password Storage Cheat Sheet's first
// argon2id configuration: m=19 MiB, t=2, p=1.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read from a stored hash (and on the configured ones),
// so a hostile or corrupt record cannot make one verification take
// gigabytes or seconds: memory per hashing worker stays under 64 MiB.
const (
	maxMemory  = 64 * 1024 // 64 MiB in KiB
	maxTime    = 8
	maxThreads = 4
	maxKeyLen  = 128
	minKeyLen  = 16
	minSaltLen = 8
)

// ErrInvalidHash reports a stored hash that is neither a well-formed argon2id
// PHC string nor a bcrypt hash.
var ErrInvalidHash = errors.New("invalid password hash")

var b64 = base64.RawStdEncoding

// Validate checks the parameters against the accepted bounds.
func (p Params) Validate() error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("argon2id memory %d KiB out of range", p.Memory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id time %d out of range", p.Time)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("argon2id parallelism %d out of range", p.Threads)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2id key length %d out of range", p.KeyLen)
	case p.SaltLen < minSaltLen:
		return fmt.Errorf("argon2id salt length %d too short", p.SaltLen)
	}
	return nil
}

// Hash returns the argon2id PHC string of password with a fresh random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func (p Params) Hash(password []byte) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key := argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// argonHash is a parsed argon2id PHC string.
type argonHash struct {
	params Params
	salt   []byte
	key    []byte
}

func parseArgon2id(s string) (argonHash, error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return argonHash{}, ErrInvalidHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return argonHash{}, fmt.Errorf("%w: unsupported argon2 version", ErrInvalidHash)
	}
	var h argonHash
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.params.Memory, &h.params.Time, &threads); err != nil || n != 3 ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", h.params.Memory, h.params.Time, threads) {
		return argonHash{}, fmt.Errorf("%w: malformed argon2id parameters", ErrInvalidHash)
	}
	if threads > maxThreads {
		return argonHash{}, fmt.Errorf("%w: argon2id parallelism out of range", ErrInvalidHash)
	}
	h.params.Threads = uint8(threads)
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil {
		return argonHash{}, fmt.Errorf("%w: malformed salt", ErrInvalidHash)
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil {
		return argonHash{}, fmt.Errorf("%w: malformed key", ErrInvalidHash)
	}
	h.params.SaltLen, h.params.KeyLen = uint32(len(h.salt)), uint32(len(h.key))
	if err := h.params.Validate(); err != nil {
		return argonHash{}, fmt.Errorf("%w: %w", ErrInvalidHash, err)
	}
	return h, nil
}

func (h argonHash) class() string {
	return fmt.Sprintf("argon2id/m=%d,t=%d,p=%d,k=%d", h.params.Memory, h.params.Time, h.params.Threads, h.params.KeyLen)
}

func (h argonHash) threads() int { return int(h.params.Threads) }

func (h argonHash) verify(password []byte) bool {
	key := argon2.IDKey(password, h.salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	return subtle.ConstantTimeCompare(key, h.key) == 1
}
