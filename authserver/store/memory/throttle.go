package memory

import (
	"context"
	"errors"
	"time"

	"github.com/authstack/authstack/authserver/store"
)

// counterKey names the counters of one throttle key for one window length.
type counterKey struct {
	key    string
	window time.Duration
}

// AddAttempt counts one attempt in the window containing now and forgets
// windows older than the previous one.
func (s *Store) AddAttempt(_ context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	if window <= 0 {
		return 0, errors.New("add attempt: window must be positive")
	}
	idx := store.WindowIndex(now, window)
	s.mu.Lock()
	defer s.mu.Unlock()
	ck := counterKey{key, window}
	windows := s.attempts[ck]
	if windows == nil {
		windows = make(map[int64]int64)
		s.attempts[ck] = windows
	}
	for i := range windows {
		if i < idx-1 {
			delete(windows, i)
		}
	}
	windows[idx]++
	return windows[idx], nil
}

// RemoveAttempt takes one attempt back from the window containing now,
// never going below zero.
func (s *Store) RemoveAttempt(_ context.Context, key string, window time.Duration, now time.Time) error {
	if window <= 0 {
		return errors.New("remove attempt: window must be positive")
	}
	idx := store.WindowIndex(now, window)
	s.mu.Lock()
	defer s.mu.Unlock()
	if windows := s.attempts[counterKey{key, window}]; windows[idx] > 0 {
		windows[idx]--
	}
	return nil
}
