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
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// fastParams keep unit tests quick; the defaults are tested once below.
var fastParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestArgon2idRoundTrip(t *testing.T) {
	for _, p := range []Params{fastParams, DefaultParams} {
		h, err := p.Hash([]byte("correct horse"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h, "$argon2id$v=19$") {
			t.Fatalf("not a PHC argon2id string: %q", h)
		}
		if ok, err := Verify(h, []byte("correct horse")); err != nil || !ok {
			t.Fatalf("right password: ok=%v err=%v", ok, err)
		}
		if ok, _ := Verify(h, []byte("correct horsE")); ok {
			t.Fatal("wrong password matched")
		}
	}
	h, _ := DefaultParams.Hash([]byte("x"))
	if !strings.Contains(h, "$m=19456,t=2,p=1$") {
		t.Fatalf("default parameters are not OWASP's m=19MiB,t=2,p=1: %q", h)
	}
}

func TestSaltIsRandom(t *testing.T) {
	a, _ := fastParams.Hash([]byte("same"))
	b, _ := fastParams.Hash([]byte("same"))
	if a == b {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestBcrypt(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("builder-bob-77"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		s := prefix + string(h[4:])
		if ok, err := Verify(s, []byte("builder-bob-77")); err != nil || !ok {
			t.Fatalf("%s: ok=%v err=%v", prefix, ok, err)
		}
		if ok, _ := Verify(s, []byte("builder-bob-78")); ok {
			t.Fatalf("%s: wrong password matched", prefix)
		}
	}
}

// bcrypt reads only 72 bytes; a longer password must not match a hash of its
// 72-byte prefix.
func TestBcrypt72ByteLimit(t *testing.T) {
	pw72 := []byte(strings.Repeat("a", 72))
	h, err := bcrypt.GenerateFromPassword(pw72, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := Verify(string(h), pw72); !ok {
		t.Fatal("72-byte password does not match its own hash")
	}
	if ok, _ := Verify(string(h), append(pw72, []byte("suffix")...)); ok {
		t.Fatal("72-byte password plus a suffix matched: truncation not enforced")
	}
	// The raw library would have accepted it: the check above is ours.
	if bcrypt.CompareHashAndPassword(h, append(pw72, 'x')) != nil {
		t.Log("note: x/crypto now refuses long passwords itself")
	}
}

func TestCheckRejectsBadHashes(t *testing.T) {
	good, _ := fastParams.Hash([]byte("pw"))
	bc, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	for _, s := range []string{good, string(bc)} {
		if err := Check(s); err != nil {
			t.Errorf("Check(%q) = %v", s, err)
		}
	}
	bad := []string{
		"", "plaintext", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$a2V5",
		"$argon2id$v=19$m=64,t=1,p=1,x=2$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$2b$10$short", "$2x$10$" + strings.Repeat("a", 53),
		"$2b$31$" + strings.Repeat("a", 53),
		// Above the caps: 64 MiB + 1 KiB, 9 passes, 5 lanes, bcrypt cost 13.
		"$argon2id$v=19$m=65537,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=1024,t=9,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=1024,t=1,p=5$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		bcryptCost13,
	}
	for _, s := range bad {
		if err := Check(s); !errors.Is(err, ErrInvalidHash) {
			t.Errorf("Check(%q) = %v, want ErrInvalidHash", s, err)
		}
	}
}

// allocated returns the bytes fn allocates. argon2id's memory cost makes the
// allocation a deterministic measure of the hash work done, without timing.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// An unknown user and a malformed record must cost the same hash work as a
// wrong password for a real user.
func TestVerifierUnknownUserCostsAHash(t *testing.T) {
	v, err := NewVerifier(Policy{Params: DefaultParams})
	if err != nil {
		t.Fatal(err)
	}
	real, _ := DefaultParams.Hash([]byte("secret"))
	wrong := allocated(func() { _, _ = v.Verify(real, []byte("guess")) })
	unknown := allocated(func() {
		if ok, err := v.Verify("", []byte("guess")); ok || err != nil {
			t.Errorf("unknown user: ok=%v err=%v", ok, err)
		}
	})
	corrupt := allocated(func() { _, _ = v.Verify("garbage", []byte("guess")) })
	memory := uint64(DefaultParams.Memory) * 1024
	for name, got := range map[string]uint64{"wrong password": wrong, "unknown user": unknown, "corrupt record": corrupt} {
		if got < memory {
			t.Errorf("%s allocated %d bytes, less than one argon2id hash (%d): hash work skipped", name, got, memory)
		}
	}
}

func TestPoolBoundsConcurrencyAndRefusesExcess(t *testing.T) {
	p := NewPool(PoolOptions{Workers: 2, Queue: 3, MaxWait: time.Minute})
	release := make(chan struct{})
	var running, peak int
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := 0; i < 5; i++ { // 2 running + 3 queued
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- p.Do(context.Background(), func() {
				mu.Lock()
				running++
				peak = max(peak, running)
				mu.Unlock()
				<-release
				mu.Lock()
				running--
				mu.Unlock()
			})
		}()
	}
	// Wait until two are running and three are queued.
	deadline := time.Now().Add(10 * time.Second)
	for p.waiting.Load() != 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	// The sixth caller finds the queue full and is refused at once.
	if err := p.Do(context.Background(), func() { t.Error("ran past a full queue") }); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("sixth caller: %v, want ErrOverloaded", err)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("queued caller: %v", err)
		}
	}
	if peak != 2 {
		t.Errorf("peak concurrency %d, want 2", peak)
	}
}

func TestPoolMaxWait(t *testing.T) {
	p := NewPool(PoolOptions{Workers: 1, Queue: 1, MaxWait: 20 * time.Millisecond})
	release := make(chan struct{})
	go func() { _ = p.Do(context.Background(), func() { <-release }) }()
	for p.inUse.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	if err := p.Do(context.Background(), func() {}); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("waiter past MaxWait: %v, want ErrOverloaded", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p2 := NewPool(PoolOptions{Workers: 1, Queue: 1, MaxWait: time.Minute})
	go func() { _ = p2.Do(context.Background(), func() { <-release }) }()
	for p2.inUse.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	if err := p2.Do(ctx, func() {}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	close(release)
}

// A real bcrypt hash of "x" at cost 13, one above the cap.
const bcryptCost13 = "$2a$13$0ZkqoIDcrCvABcq9HrvHauUgiGA4eo79Z6akim2Ks72owCDxPhl/C"

// After a slower class of hash has been seen, failures must take at least
// that class's time: the floor is the slowest class's average.
func TestFailureFloorFollowsTheSlowestClass(t *testing.T) {
	v, err := NewVerifier(Policy{Params: fastParams})
	if err != nil {
		t.Fatal(err)
	}
	decoyFloor := v.FailureFloor()
	if decoyFloor <= 0 {
		t.Fatal("the decoy was not calibrated at start")
	}
	bc, _ := bcrypt.GenerateFromPassword([]byte("pw"), 8)
	if ok, _ := v.Verify(string(bc), []byte("wrong")); ok {
		t.Fatal("wrong password matched")
	}
	floor := v.FailureFloor()
	v.mu.Lock()
	bcryptCost := v.costs["bcrypt/8"]
	v.mu.Unlock()
	if bcryptCost == 0 || floor != max(bcryptCost, decoyFloor) {
		t.Fatalf("floor %v, bcrypt class %v, decoy %v", floor, bcryptCost, decoyFloor)
	}
	// Unknown users run the decoy class, not a new one.
	_, _ = v.Verify("", []byte("x"))
	v.mu.Lock()
	n := len(v.costs)
	v.mu.Unlock()
	if n != 2 {
		t.Fatalf("%d classes, want decoy and bcrypt/8", n)
	}
}

// A hash that runs on several threads holds as many slots: with two
// workers, a p=2 verification leaves no room for another hash.
func TestPoolWeighsMultiThreadedHashes(t *testing.T) {
	p := NewPool(PoolOptions{Workers: 2, Queue: 1, MaxWait: 50 * time.Millisecond})
	release := make(chan struct{})
	started := make(chan struct{})
	go func() { _ = p.DoWeighted(context.Background(), 2, func() { close(started); <-release }) }()
	<-started
	err := p.Do(context.Background(), func() { t.Error("ran beside a two-thread hash on a two-worker pool") })
	if !errors.Is(err, ErrOverloaded) {
		t.Fatalf("Do while a p=2 hash holds both workers: %v", err)
	}
	close(release)
	// Weights above the pool's size are capped, so they can still run.
	if err := p.DoWeighted(context.Background(), 9, func() {}); err != nil {
		t.Fatalf("weight above Workers: %v", err)
	}
}

func TestVerifierThreads(t *testing.T) {
	v, err := NewVerifier(Policy{Params: fastParams})
	if err != nil {
		t.Fatal(err)
	}
	p4 := fastParams
	p4.Threads, p4.Memory = 4, 64
	h4, _ := p4.Hash([]byte("x"))
	b, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	for stored, want := range map[string]int{h4: 4, string(b): 1, "": 1, "garbage": 1} {
		if got := v.Threads(stored); got != want {
			t.Errorf("Threads(%.20q) = %d, want %d", stored, got, want)
		}
	}
}

// A stalled measurement cannot hold every failure for more than a second.
func TestFailureFloorIsCapped(t *testing.T) {
	v, err := NewVerifier(Policy{Params: fastParams})
	if err != nil {
		t.Fatal(err)
	}
	v.observe("bcrypt/12", time.Minute)
	if got := v.FailureFloor(); got != MaxFailureFloor {
		t.Fatalf("FailureFloor = %v, want the cap %v", got, MaxFailureFloor)
	}
}

// turnRefs is how many calls of key hold or wait for a turn.
func turnRefs(p *Pool, key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.turns[key]; t != nil {
		return t.refs
	}
	return 0
}

// One key's calls take turns: past PerKey, they wait without holding a
// slot or a place in the queue, so other keys still find the free slots;
// past Queue waiters of one key, a call is refused at once.
func TestPoolTakesTurnsPerKey(t *testing.T) {
	p := NewPool(PoolOptions{Workers: 2, Queue: 2, MaxWait: time.Minute, PerKey: 1})
	release := make(chan struct{})
	started := make(chan struct{}, 3)
	errs := make(chan error, 3)
	for range 3 { // one runs, two wait for mallory's turn
		go func() {
			errs <- p.DoFor(context.Background(), "mallory", 1, func() { started <- struct{}{}; <-release })
		}()
	}
	<-started
	for turnRefs(p, "mallory") != 3 {
		time.Sleep(time.Millisecond)
	}
	if err := p.DoFor(context.Background(), "mallory", 1, func() { t.Error("ran past mallory's queue") }); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("a fourth call of mallory: %v, want ErrOverloaded", err)
	}
	if n := p.inUse.Load() + p.waiting.Load(); n != 1 {
		t.Fatalf("mallory's waiting calls hold %d slots and places, want only her running one", n)
	}
	for _, user := range []string{"alice", "bob", "carol"} {
		ran := false
		if err := p.DoFor(context.Background(), user, 1, func() { ran = true }); err != nil || !ran {
			t.Fatalf("%s while mallory waits: ran %v, %v", user, ran, err)
		}
	}
	close(release)
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("mallory's call: %v", err)
		}
	}
	p.mu.Lock()
	left := len(p.turns)
	p.mu.Unlock()
	if left != 0 {
		t.Errorf("%d keys left after every call ended", left)
	}
}

// A wait for a key's turn counts against MaxWait and ends with its context.
func TestPoolTurnWaitIsBounded(t *testing.T) {
	p := NewPool(PoolOptions{Workers: 2, Queue: 2, MaxWait: 20 * time.Millisecond, PerKey: 1})
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	go func() { _ = p.DoFor(context.Background(), "k", 1, func() { close(started); <-release }) }()
	<-started
	if err := p.DoFor(context.Background(), "k", 1, func() {}); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("turn not reached within MaxWait: %v, want ErrOverloaded", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.DoFor(ctx, "k", 1, func() {}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait for a turn: %v", err)
	}
}

// synthetic returns a well-formed argon2id PHC string with the given
// parameters (its key matches nothing): Check reads, it does not hash.
func synthetic(m, t, p int) string {
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5", m, t, p)
}

// A stored hash may cost at most CostFactor times the server's own, and
// use no more lanes; bcrypt is weighed in the same unit. Refusals name the
// cap, for the manager's InvalidHash reason.
func TestPolicyCapsCostRelativeToTheServer(t *testing.T) {
	server := Policy{Params: DefaultParams, CostFactor: 4} // m=19456, t=2, p=1
	bcryptOf := func(cost int) string { return fmt.Sprintf("$2a$%02d$%s", cost, strings.Repeat("a", 53)) }
	for _, tc := range []struct {
		name   string
		policy Policy
		hash   string
		want   string // "" admitted, else part of the refusal
	}{
		{"the server's own", server, synthetic(19456, 2, 1), ""},
		{"four times, in passes", server, synthetic(19456, 8, 1), ""},
		{"3.4 times, in memory", server, synthetic(65536, 2, 1), ""},
		{"5.1 times", server, synthetic(65536, 3, 1), "argon2id m=65536,t=3 costs 5.1 times the server's m=19456,t=2, above the cap of 4 times (--hash-cost-factor)"},
		{"the absolute maximum", server, synthetic(65536, 8, 4), "argon2id parallelism 4 is above the server's 1 (--argon2-threads)"},
		{"two lanes", server, synthetic(19456, 2, 2), "parallelism 2 is above the server's 1"},
		{"bcrypt 10", server, bcryptOf(10), ""},
		{"bcrypt 11", server, bcryptOf(11), "bcrypt cost 11 costs about 4.2 times the server's argon2id m=19456,t=2, above the cap of 4 times (--hash-cost-factor); the highest bcrypt cost allowed is 10"},
		{"bcrypt 12, factor 16", Policy{Params: DefaultParams, CostFactor: 16}, bcryptOf(12), ""},
		{"no cap", Policy{Params: DefaultParams}, synthetic(65536, 8, 4), ""},
		{"no cap, bcrypt 12", Policy{Params: DefaultParams}, bcryptOf(12), ""},
		{"no cap, still the bounds", Policy{Params: DefaultParams}, bcryptCost13, "bcrypt cost 13 above 12"},
		{"tiny server parameters", Policy{Params: fastParams, CostFactor: 4}, bcryptOf(4), "no bcrypt cost is allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(tc.hash)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Check = %v, want admitted", err)
			case tc.want != "" && (!errors.Is(err, ErrInvalidHash) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Check = %v, want ErrInvalidHash saying %q", err, tc.want)
			}
		})
	}
}

// A stored hash above the cap never matches, even with the right
// password, and costs the decoy's work instead of its own.
func TestVerifierTreatsHashesAboveTheCapAsInvalid(t *testing.T) {
	heavy := Params{Memory: 4096, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	stored, err := heavy.Hash([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	capped, err := NewVerifier(Policy{Params: fastParams, CostFactor: 4}) // 64 KiB × 4 < 4 MiB
	if err != nil {
		t.Fatal(err)
	}
	var ok bool
	spent := allocated(func() { ok, err = capped.Verify(stored, []byte("pw")) })
	if ok || !errors.Is(err, ErrInvalidHash) {
		t.Fatalf("right password, hash above the cap: ok=%v err=%v; want no match and ErrInvalidHash", ok, err)
	}
	if spent < uint64(fastParams.Memory)*1024 || spent >= uint64(heavy.Memory)*1024 {
		t.Errorf("allocated %d bytes: want the decoy's %d KiB, not the stored hash's %d KiB", spent, fastParams.Memory, heavy.Memory)
	}
	if n := capped.Threads(stored); n != 1 {
		t.Errorf("Threads = %d, want the decoy's", n)
	}
	uncapped, _ := NewVerifier(Policy{Params: fastParams})
	if ok, err := uncapped.Verify(stored, []byte("pw")); !ok || err != nil {
		t.Fatalf("without a cap: ok=%v err=%v", ok, err)
	}
}
