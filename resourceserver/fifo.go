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

package resourceserver

import "strings"

// fifo is a map from strings bounded in entries and in bytes (sizes its
// caller gives), which evicts its oldest entries, in the order they were
// put, to stay within both. It is not safe for concurrent use.
type fifo[V any] struct {
	maxEntries, maxBytes int

	byKey      map[string]*fifoEntry[V]
	head, tail *fifoEntry[V] // oldest, newest
	bytes      int
	evictions  uint64
}

// fifoEntry is one entry; its key and val do not change once put.
type fifoEntry[V any] struct {
	key        string
	val        V
	size       int
	prev, next *fifoEntry[V]
}

func newFIFO[V any](maxEntries, maxBytes int) fifo[V] {
	return fifo[V]{maxEntries: maxEntries, maxBytes: maxBytes, byKey: map[string]*fifoEntry[V]{}}
}

// get returns the entry of key, or nil.
func (f *fifo[V]) get(key string) *fifoEntry[V] { return f.byKey[key] }

// put adds val under key as the newest entry, replacing any entry of key,
// and evicts the oldest entries beyond the bounds. An entry larger than
// maxBytes is not kept. The key is copied, so that the entry does not
// keep alive the larger string key may be part of.
func (f *fifo[V]) put(key string, val V, size int) {
	if old := f.byKey[key]; old != nil {
		f.remove(old)
	}
	if size > f.maxBytes {
		return
	}
	key = strings.Clone(key)
	e := &fifoEntry[V]{key: key, val: val, size: size, prev: f.tail}
	if f.tail != nil {
		f.tail.next = e
	} else {
		f.head = e
	}
	f.tail = e
	f.byKey[key] = e
	f.bytes += size
	for len(f.byKey) > f.maxEntries || f.bytes > f.maxBytes {
		f.remove(f.head)
		f.evictions++
	}
}

// remove drops e if it is still the entry of its key.
func (f *fifo[V]) remove(e *fifoEntry[V]) {
	if f.byKey[e.key] != e {
		return
	}
	delete(f.byKey, e.key)
	f.bytes -= e.size
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		f.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		f.tail = e.prev
	}
	e.prev, e.next = nil, nil
}
