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
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// Pool bounds concurrent hashing. At most Workers hashing threads run at once
// (an argon2id hash with parallelism p takes p of them) and at most Queue
// callers wait; a caller beyond that, or one that waits longer than MaxWait,
// gets ErrOverloaded at once. Memory is therefore bounded by Workers × the
// argon2 memory cost, and an overloaded server refuses the excess quickly
// instead of queueing it without bound. With PerKey, the calls of one key
// (a username) take their turns, so that one user's requests cannot take
// every slot from the others.
type Pool struct {
	sem     *semaphore.Weighted
	workers int64
	inUse   atomic.Int64
	waiting atomic.Int64
	queue   int64
	maxWait time.Duration
	perKey  int

	mu    sync.Mutex
	turns map[string]*keyTurn
}

// keyTurn admits the calls of one key; refs counts those holding or
// waiting for a turn, and the entry goes when it drops to zero.
type keyTurn struct {
	sem  *semaphore.Weighted
	refs int
}

// PoolOptions configure a Pool; zero values take the defaults.
type PoolOptions struct {
	// Workers is the number of concurrent hashing threads (default GOMAXPROCS).
	Workers int
	// Queue is how many callers may wait for a slot (default 4 × Workers).
	Queue int
	// MaxWait is the longest a caller waits for a slot (default 2s).
	MaxWait time.Duration
	// PerKey is how many calls of one key (DoFor) may hold or wait for
	// slots at once; the others wait for their turn without holding a slot
	// or a place in the queue, at most Queue of them per key and at most
	// MaxWait in all. Zero: no bound.
	PerKey int
}

// NewPool returns a Pool with the given options.
func NewPool(o PoolOptions) *Pool {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Queue <= 0 {
		o.Queue = 4 * o.Workers
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 2 * time.Second
	}
	return &Pool{
		sem: semaphore.NewWeighted(int64(o.Workers)), workers: int64(o.Workers), queue: int64(o.Queue),
		maxWait: o.MaxWait, perKey: max(o.PerKey, 0), turns: make(map[string]*keyTurn),
	}
}

// Do runs fn in one hashing slot; see DoWeighted.
func (p *Pool) Do(ctx context.Context, fn func()) error {
	return p.DoWeighted(ctx, 1, fn)
}

// DoWeighted runs fn holding weight slots (capped at Workers): a hash that
// runs on several threads holds as many slots, so the pool bounds CPU, not
// just calls. It returns ErrOverloaded when the queue is full or the slots do
// not free up within MaxWait, and ctx.Err() when ctx ends first.
func (p *Pool) DoWeighted(ctx context.Context, weight int, fn func()) error {
	return p.do(ctx, weight, time.Now().Add(p.maxWait), fn)
}

// DoFor is DoWeighted for a call of key: it first waits for the key's turn
// (see PoolOptions.PerKey), holding nothing of the pool's meanwhile, and
// the whole wait is bounded by MaxWait.
func (p *Pool) DoFor(ctx context.Context, key string, weight int, fn func()) error {
	deadline := time.Now().Add(p.maxWait)
	if p.perKey > 0 {
		done, err := p.turn(ctx, key, deadline)
		if err != nil {
			return err
		}
		defer done()
	}
	return p.do(ctx, weight, deadline, fn)
}

// turn waits until key may hold or wait for slots, and returns the
// function that ends its turn.
func (p *Pool) turn(ctx context.Context, key string, deadline time.Time) (func(), error) {
	p.mu.Lock()
	t := p.turns[key]
	if t == nil {
		t = &keyTurn{sem: semaphore.NewWeighted(int64(p.perKey))}
		p.turns[key] = t
	}
	if t.refs >= p.perKey+int(p.queue) {
		p.mu.Unlock()
		return nil, ErrOverloaded
	}
	t.refs++
	p.mu.Unlock()
	leave := func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if t.refs--; t.refs == 0 {
			delete(p.turns, key)
		}
	}
	if !t.sem.TryAcquire(1) {
		wctx, cancel := context.WithDeadline(ctx, deadline)
		err := t.sem.Acquire(wctx, 1)
		cancel()
		if err != nil {
			leave()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, ErrOverloaded
		}
	}
	return func() {
		t.sem.Release(1)
		leave()
	}, nil
}

// do runs fn holding weight slots, waiting for them until deadline.
func (p *Pool) do(ctx context.Context, weight int, deadline time.Time, fn func()) error {
	w := min(max(int64(weight), 1), p.workers)
	if !p.sem.TryAcquire(w) {
		if p.waiting.Add(1) > p.queue {
			p.waiting.Add(-1)
			return ErrOverloaded
		}
		wctx, cancel := context.WithDeadline(ctx, deadline)
		err := p.sem.Acquire(wctx, w)
		cancel()
		p.waiting.Add(-1)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return ErrOverloaded
		}
	}
	p.inUse.Add(w)
	defer func() {
		p.inUse.Add(-w)
		p.sem.Release(w)
	}()
	fn()
	return nil
}

// MaxWait is the longest a caller waits for a slot.
func (p *Pool) MaxWait() time.Duration { return p.maxWait }

// Workers returns the number of concurrent hashing slots.
func (p *Pool) Workers() int { return int(p.workers) }

// Full reports whether a caller arriving now would be refused: every slot is
// taken and the queue is full. Callers check it before doing work (such as
// writing throttle counters) that a refusal would waste.
func (p *Pool) Full() bool {
	return p.inUse.Load() >= p.workers && p.waiting.Load() >= p.queue
}
