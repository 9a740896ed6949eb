package password

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// BenchmarkVerify measures one password verification for each kind of
// stored hash: the ceiling of /token is cores ÷ this time.
func BenchmarkVerify(b *testing.B) {
	argon, err := DefaultParams.Hash([]byte("correct horse"))
	if err != nil {
		b.Fatal(err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("correct horse"), 10)
	if err != nil {
		b.Fatal(err)
	}
	for name, h := range map[string]string{"argon2id-m19MiB-t2-p1": argon, "bcrypt-10": string(bc)} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if ok, _ := Verify(h, []byte("correct horse")); !ok {
					b.Fatal("no match")
				}
			}
		})
	}
}
