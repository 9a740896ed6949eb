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
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// DefaultCostFactor is how many times the server's own hash a stored hash
// may cost by default: 16, so that at the default parameters bcrypt up to
// cost 12 (the absolute bound, and a common choice of other systems whose
// hashes are imported) keeps working after an upgrade, while a hash at the
// absolute argon2id bounds (27 times the default, four lanes) does not.
const DefaultCostFactor = 16

// Policy is what a deployment accepts as a stored hash: one within the
// absolute bounds (Check), costing at most CostFactor times a hash made
// with Params, the server's own parameters. Whoever may write an AuthUser
// chooses its hash, and every login for it costs that hash: a cap relative
// to the server's parameters keeps one user's logins from costing many
// times everyone else's.
type Policy struct {
	Params Params
	// CostFactor caps an argon2id hash's memory × passes at CostFactor
	// times Params', with no more lanes than Params.Threads, and a bcrypt
	// hash at the costs whose time is within the same budget. 0: only the
	// absolute bounds apply.
	CostFactor uint
}

// bcryptUnit is the argon2id work (KiB × passes) that one of bcrypt's 2^cost
// key-setup rounds takes about as long as: measured on x86-64, bcrypt cost
// 10 takes 70 ms, 2.3 times argon2id m=19 MiB, t=2 (30 ms, 38,912 KiB ×
// passes), and each cost step doubles it.
const bcryptUnit = 80

// work is a hash's cost in argon2id KiB × passes.
func work(memory, passes uint32) uint64 { return uint64(memory) * uint64(passes) }

func bcryptWork(cost int) uint64 { return bcryptUnit << cost }

// Check reports whether s is a hash this package can verify and that the
// policy admits. The manager uses it to refuse a passwordHash Secret,
// naming the cap it is above.
func (p Policy) Check(s string) error {
	h, err := parse(s)
	if err != nil {
		return err
	}
	return p.admits(h)
}

// admits refuses a parsed hash that costs more than the policy allows.
func (p Policy) admits(h hash) error {
	if p.CostFactor == 0 {
		return nil
	}
	own := work(p.Params.Memory, p.Params.Time)
	budget := uint64(p.CostFactor) * own
	switch h := h.(type) {
	case argonHash:
		if h.params.Threads > p.Params.Threads {
			return fmt.Errorf("%w: argon2id parallelism %d is above the server's %d (--argon2-threads)",
				ErrInvalidHash, h.params.Threads, p.Params.Threads)
		}
		if w := work(h.params.Memory, h.params.Time); w > budget {
			return fmt.Errorf("%w: argon2id m=%d,t=%d costs %.1f times the server's m=%d,t=%d, above the cap of %d times (--hash-cost-factor)",
				ErrInvalidHash, h.params.Memory, h.params.Time, float64(w)/float64(own), p.Params.Memory, p.Params.Time, p.CostFactor)
		}
	case bcryptHash:
		cost, _ := bcrypt.Cost(h)
		if w := bcryptWork(cost); w > budget {
			return fmt.Errorf("%w: bcrypt cost %d costs about %.1f times the server's argon2id m=%d,t=%d, above the cap of %d times (--hash-cost-factor); %s",
				ErrInvalidHash, cost, float64(w)/float64(own), p.Params.Memory, p.Params.Time, p.CostFactor, p.bcryptAllowed(budget))
		}
	}
	return nil
}

// bcryptAllowed names the highest bcrypt cost within budget.
func (p Policy) bcryptAllowed(budget uint64) string {
	for cost := MaxBcryptCost; cost >= bcrypt.MinCost; cost-- {
		if bcryptWork(cost) <= budget {
			return fmt.Sprintf("the highest bcrypt cost allowed is %d", cost)
		}
	}
	return "no bcrypt cost is allowed"
}
