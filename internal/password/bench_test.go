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
