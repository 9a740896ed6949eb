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

import (
	"container/list"
	"strings"
)

// fifo is a map from strings bounded in entries and in bytes (sizes its
// caller gives), which evicts its oldest entries, in the order they were
// put, to stay within both. It is not safe for concurrent use.
type fifo[V any] struct {
	maxEntries, maxBytes int

	byKey     map[string]*fifoEntry[V]
	order     list.List // of *fifoEntry[V], oldest first
	bytes     int
	evictions uint64
}

// fifoEntry is one entry; its key and val do not change once put.
type fifoEntry[V any] struct {
	key  string
	val  V
	size int
	at   *list.Element // in order
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
	e := &fifoEntry[V]{key: strings.Clone(key), val: val, size: size}
	e.at = f.order.PushBack(e)
	f.byKey[e.key] = e
	f.bytes += size
	for len(f.byKey) > f.maxEntries || f.bytes > f.maxBytes {
		f.remove(f.order.Front().Value.(*fifoEntry[V]))
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
	f.order.Remove(e.at)
}
