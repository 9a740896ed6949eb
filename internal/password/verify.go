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

package password

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// BcryptMaxBytes is the most bcrypt reads of a password. Longer passwords are
// refused for bcrypt hashes instead of being silently truncated, so a
// 72-byte password followed by anything does not match.
const BcryptMaxBytes = 72

// MaxBcryptCost is the highest bcrypt cost accepted in a stored hash (about
// a quarter of a second per verification on current hardware).
const MaxBcryptCost = 12

// hash is a parsed stored hash of either kind.
type hash interface {
	verify(password []byte) bool
	// class names the cost class: hashes of one class take the same time.
	class() string
	// threads is how many threads a verification runs on.
	threads() int
}

type bcryptHash []byte

func (h bcryptHash) class() string {
	cost, _ := bcrypt.Cost(h)
	return fmt.Sprintf("bcrypt/%d", cost)
}

func (h bcryptHash) threads() int { return 1 }

func (h bcryptHash) verify(password []byte) bool {
	tooLong := len(password) > BcryptMaxBytes
	if tooLong {
		// Spend the same work as for a password of legal length.
		password = password[:BcryptMaxBytes]
	}
	ok := bcrypt.CompareHashAndPassword(h, password) == nil
	return ok && !tooLong
}

// parse recognises an argon2id PHC string or a $2a$/$2b$/$2y$ bcrypt hash.
func parse(s string) (hash, error) {
	switch {
	case strings.HasPrefix(s, "$argon2id$"):
		return parseArgon2id(s)
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		cost, err := bcrypt.Cost([]byte(s))
		if err != nil || len(s) != 60 {
			return nil, fmt.Errorf("%w: malformed bcrypt hash", ErrInvalidHash)
		}
		if cost > MaxBcryptCost {
			return nil, fmt.Errorf("%w: bcrypt cost %d above %d", ErrInvalidHash, cost, MaxBcryptCost)
		}
		return bcryptHash(s), nil
	}
	return nil, fmt.Errorf("%w: not an argon2id or bcrypt hash", ErrInvalidHash)
}

// Check reports whether s is a hash this package can verify. The controller
// uses it to refuse a bad passwordHash Secret before writing the record.
func Check(s string) error {
	_, err := parse(s)
	return err
}

// Verify reports whether password matches the stored hash, comparing in
// constant time.
func Verify(stored string, password []byte) (bool, error) {
	h, err := parse(stored)
	if err != nil {
		return false, err
	}
	return h.verify(password), nil
}

// Verifier checks passwords so that failures cannot be told apart by their
// cost or their timing:
//   - an unknown user, or a corrupt record, is verified against a decoy hash
//     made with the configured parameters, so it costs a full hash;
//   - it learns how long each class of stored hash takes (argon2id with
//     given parameters, bcrypt with a given cost), and FailureFloor tells the
//     caller how long a failure must take so that a user whose hash is of a
//     slower class (a bcrypt user, or one hashed before the parameters were
//     raised) looks the same as an unknown one.
type Verifier struct {
	decoy  hash
	policy Policy

	mu    sync.Mutex
	costs map[string]time.Duration // moving average per hash class
}

// maxClasses bounds the cost table; stored hashes come from operators, so
// real deployments have a handful of classes.
const maxClasses = 64

// NewVerifier returns a Verifier whose decoy is an argon2id hash of random
// bytes made with pol.Params. A stored hash the policy does not admit is
// treated as a corrupt one: it never matches, and costs the decoy.
func NewVerifier(pol Policy) (*Verifier, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("read decoy password: %w", err)
	}
	s, err := pol.Params.Hash(secret)
	if err != nil {
		return nil, err
	}
	decoy, err := parse(s)
	if err != nil {
		return nil, err
	}
	v := &Verifier{decoy: decoy, policy: pol, costs: map[string]time.Duration{}}
	v.run(decoy, secret) // calibrate the decoy's class
	return v, nil
}

// Threads is how many threads verifying against stored takes: the hash's
// argon2id parallelism, 1 for bcrypt, and the decoy's for an empty,
// malformed or refused hash (which Verify checks against the decoy).
func (v *Verifier) Threads(stored string) int {
	if h, err := v.parse(stored); err == nil {
		return h.threads()
	}
	return v.decoy.threads()
}

// Verify checks password against stored. An empty stored hash (the user does
// not exist) runs the decoy and reports false. A malformed stored hash, or
// one the policy does not admit, also runs the decoy, so the work is the
// same, and returns the reason.
func (v *Verifier) Verify(stored string, password []byte) (bool, error) {
	if stored == "" {
		v.run(v.decoy, password)
		return false, nil
	}
	h, err := v.parse(stored)
	if err != nil {
		v.run(v.decoy, password)
		return false, err
	}
	return v.run(h, password), nil
}

// parse reads a stored hash the policy admits.
func (v *Verifier) parse(stored string) (hash, error) {
	h, err := parse(stored)
	if err != nil {
		return nil, err
	}
	if err := v.policy.admits(h); err != nil {
		return nil, err
	}
	return h, nil
}

// run verifies and records the time taken for the hash's class.
func (v *Verifier) run(h hash, password []byte) bool {
	start := time.Now()
	ok := h.verify(password)
	v.observe(h.class(), time.Since(start))
	return ok
}

func (v *Verifier) observe(class string, d time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	old, seen := v.costs[class]
	switch {
	case !seen && len(v.costs) >= maxClasses:
		return
	case !seen:
		v.costs[class] = d
	default:
		v.costs[class] = (4*old + d) / 5
	}
}

// MaxFailureFloor caps FailureFloor. The slowest legal hashes (bcrypt cost
// 12, argon2id at the parameter bounds) take a few hundred milliseconds; a
// measurement inflated by a stalled machine must not hold every failed login
// for longer than this.
const MaxFailureFloor = time.Second

// FailureFloor is the least time a failed verification should appear to
// take: the average time of the slowest hash class seen so far, at most
// MaxFailureFloor.
func (v *Verifier) FailureFloor() time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	var floor time.Duration
	for _, d := range v.costs {
		floor = max(floor, d)
	}
	return min(floor, MaxFailureFloor)
}

// ErrOverloaded is returned by Pool.Do when no hashing slot frees up in time.
var ErrOverloaded = errors.New("password hashing overloaded")
