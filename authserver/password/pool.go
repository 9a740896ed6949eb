package password

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// Pool bounds concurrent hashing. At most Workers hashes run at once and at
// most Queue callers wait for a slot; a caller beyond that, or one that waits
// longer than MaxWait, gets ErrOverloaded at once. Memory is therefore
// bounded by Workers × the argon2 memory cost, and an overloaded server
// refuses the excess quickly instead of queueing it without bound.
type Pool struct {
	slots   chan struct{}
	waiting atomic.Int64
	queue   int64
	maxWait time.Duration
}

// PoolOptions configure a Pool; zero values take the defaults.
type PoolOptions struct {
	// Workers is the number of concurrent hashes (default GOMAXPROCS).
	Workers int
	// Queue is how many callers may wait for a slot (default 4 × Workers).
	Queue int
	// MaxWait is the longest a caller waits for a slot (default 2s).
	MaxWait time.Duration
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
	return &Pool{slots: make(chan struct{}, o.Workers), queue: int64(o.Queue), maxWait: o.MaxWait}
}

// Do runs fn in a hashing slot. It returns ErrOverloaded when the queue is
// full or no slot frees up within MaxWait, and ctx.Err() when ctx ends first.
func (p *Pool) Do(ctx context.Context, fn func()) error {
	select {
	case p.slots <- struct{}{}:
	default:
		if p.waiting.Add(1) > p.queue {
			p.waiting.Add(-1)
			return ErrOverloaded
		}
		t := time.NewTimer(p.maxWait)
		select {
		case p.slots <- struct{}{}:
			p.waiting.Add(-1)
			t.Stop()
		case <-t.C:
			p.waiting.Add(-1)
			return ErrOverloaded
		case <-ctx.Done():
			p.waiting.Add(-1)
			t.Stop()
			return ctx.Err()
		}
	}
	defer func() { <-p.slots }()
	fn()
	return nil
}

// Workers returns the number of concurrent hashing slots.
func (p *Pool) Workers() int { return cap(p.slots) }

// Full reports whether a caller arriving now would be refused: every slot is
// taken and the queue is full. Callers check it before doing work (such as
// writing throttle counters) that a refusal would waste.
func (p *Pool) Full() bool {
	return len(p.slots) == cap(p.slots) && p.waiting.Load() >= p.queue
}
