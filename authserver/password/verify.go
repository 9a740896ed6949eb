package password

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// BcryptMaxBytes is the most bcrypt reads of a password. Longer passwords are
// refused for bcrypt hashes instead of being silently truncated, so a
// 72-byte password followed by anything does not match.
const BcryptMaxBytes = 72

// hash is a parsed stored hash of either kind.
type hash interface {
	verify(password []byte) bool
}

type bcryptHash []byte

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
		if cost > 16 {
			return nil, fmt.Errorf("%w: bcrypt cost %d too high", ErrInvalidHash, cost)
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

// Verifier checks passwords and makes an unknown user cost the same as a
// wrong password by verifying against a decoy hash made with the same
// parameters as new hashes.
type Verifier struct {
	decoy hash
}

// NewVerifier returns a Verifier whose decoy is an argon2id hash of random
// bytes made with p.
func NewVerifier(p Params) (*Verifier, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("read decoy password: %w", err)
	}
	s, err := p.Hash(secret)
	if err != nil {
		return nil, err
	}
	decoy, err := parse(s)
	if err != nil {
		return nil, err
	}
	return &Verifier{decoy: decoy}, nil
}

// Verify checks password against stored. An empty stored hash (the user does
// not exist) runs the decoy and reports false. A malformed stored hash also
// runs the decoy, so the timing is the same, and returns the parse error.
func (v *Verifier) Verify(stored string, password []byte) (bool, error) {
	if stored == "" {
		v.decoy.verify(password)
		return false, nil
	}
	h, err := parse(stored)
	if err != nil {
		v.decoy.verify(password)
		return false, err
	}
	return h.verify(password), nil
}

// ErrOverloaded is returned by Pool.Do when no hashing slot frees up in time.
var ErrOverloaded = errors.New("password hashing overloaded")
