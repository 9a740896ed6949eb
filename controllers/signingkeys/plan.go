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

package signingkeys

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authstack/authstack/internal/signer"
)

// The keys of the signing-keys Secret. The servers mount the Secret as a
// directory: active.pem signs, next.pem and previous-*.pem only verify, and
// keys.json (not a .pem) is the manager's own bookkeeping, ignored by them.
const (
	keyActiveFile   = signer.ActiveFile
	keyNextFile     = "next.pem"
	keyPreviousPfx  = "previous-"
	keyMetadataFile = "keys.json"
)

// ErrMalformedKeys is wrapped by the errors about a signing-keys Secret the
// manager cannot read. Such a Secret is left as it is (docs/signing-keys.md).
var ErrMalformedKeys = errors.New("malformed signing-keys secret")

// signingKey is one key of the Secret with its lifecycle times. A key whose
// PEM is nil is one the plan asks for: it is generated before writing.
type signingKey struct {
	PEM       []byte
	Kid       string
	Alg       string
	Created   time.Time // generated (or first seen)
	Activated time.Time // promoted to active.pem; zero while next
	Retired   time.Time // demoted to previous-*.pem; zero before
}

// keyState is the content of the Secret.
type keyState struct {
	Active   *signingKey
	Next     *signingKey
	Previous []signingKey // oldest retirement first
	// Undated is set by decodeKeys when a key had no times in keys.json:
	// the plan writes the times it gave them, so that they hold.
	Undated bool
}

// keyPolicy is the rotation schedule.
type keyPolicy struct {
	// Alg of new keys.
	Alg string
	// Period is the time a key stays active.
	Period time.Duration
	// PublishDelay is the time a new key is served in JWKS (as next.pem)
	// before it signs: every server and validator must have seen it.
	PublishDelay time.Duration
	// Retention is how long a retired key is still served: longer than any
	// token it signed lives, plus the time servers take to stop signing
	// with it.
	Retention time.Duration
}

// keyPlan is the result of planKeys.
type keyPlan struct {
	State   keyState
	Changes []string  // what changed, for logs and events; empty if nothing
	Rotated bool      // a next key was promoted
	Wake    time.Time // when the next step is due
}

// planKeys returns the state the Secret should hold at now. Each pass does
// every step that is due:
//
//   - without an active key, next.pem is promoted if there is one, else a
//     new active key is created (a new Secret);
//   - PublishDelay before the active key is Period old, a new key is
//     published as next.pem;
//   - PublishDelay after it was published, next.pem is promoted: it
//     becomes active.pem and the active key becomes a previous one;
//   - a previous key is dropped Retention after it was retired.
func planKeys(now time.Time, cur keyState, p keyPolicy) keyPlan {
	st := keyState{Active: cur.Active, Next: cur.Next, Previous: slices.Clone(cur.Previous)}
	var plan keyPlan
	if cur.Undated {
		plan.Changes = append(plan.Changes, "dated keys found without times")
	}
	if st.Active == nil {
		if st.Next != nil {
			a := *st.Next
			a.Activated = now
			st.Active, st.Next = &a, nil
			plan.Changes = append(plan.Changes, "promoted next key "+a.Kid+" (no active key)")
			plan.Rotated = true
		} else {
			st.Active = &signingKey{Alg: p.Alg, Created: now, Activated: now}
			plan.Changes = append(plan.Changes, "created an active key")
		}
	}
	if st.Next == nil && !now.Before(publishAt(*st.Active, p)) {
		st.Next = &signingKey{Alg: p.Alg, Created: now}
		plan.Changes = append(plan.Changes, "published a next key")
	}
	if st.Next != nil && st.Next.PEM != nil && !now.Before(st.Next.Created.Add(p.PublishDelay)) {
		old, next := *st.Active, *st.Next
		old.Retired, next.Activated = now, now
		st.Previous = append(st.Previous, old)
		st.Active, st.Next = &next, nil
		plan.Changes = append(plan.Changes, "promoted next key "+next.Kid+", retired "+old.Kid)
		plan.Rotated = true
	}
	st.Previous = slices.DeleteFunc(st.Previous, func(k signingKey) bool {
		if now.Before(k.Retired.Add(p.Retention)) {
			return false
		}
		plan.Changes = append(plan.Changes, "dropped previous key "+k.Kid)
		return true
	})
	plan.State = st
	plan.Wake = wakeAt(st, p)
	return plan
}

// publishAt is when a next key is published: PublishDelay before the
// active key is Period old, so that it is promoted on time.
func publishAt(active signingKey, p keyPolicy) time.Time {
	lead := min(p.PublishDelay, p.Period)
	return active.Activated.Add(p.Period - lead)
}

// wakeAt is the time of the next step due for st.
func wakeAt(st keyState, p keyPolicy) time.Time {
	var t time.Time
	if st.Next == nil {
		t = publishAt(*st.Active, p)
	} else {
		t = st.Next.Created.Add(p.PublishDelay)
	}
	for _, k := range st.Previous {
		if r := k.Retired.Add(p.Retention); r.Before(t) {
			t = r
		}
	}
	return t
}

// keyMetadata is keys.json: the lifecycle times of each key by kid.
type keyMetadata struct {
	Keys map[string]keyTimes `json:"keys"`
}

type keyTimes struct {
	Created   time.Time  `json:"created"`
	Activated *time.Time `json:"activated,omitempty"`
	Retired   *time.Time `json:"retired,omitempty"`
}

// decodeKeys reads the state from the Secret's data. A key without
// metadata (a Secret written by hand) counts as created, activated or
// retired at now. Unparsable data is an error wrapping ErrMalformedKeys,
// naming the Secret key but never its contents.
func decodeKeys(data map[string][]byte, now time.Time) (keyState, error) {
	var st keyState
	meta := keyMetadata{}
	if raw, ok := data[keyMetadataFile]; ok {
		if err := json.Unmarshal(raw, &meta); err != nil {
			return st, fmt.Errorf("%w: %s: %v", ErrMalformedKeys, keyMetadataFile, err)
		}
	}
	load := func(name string, private bool) (*signingKey, error) {
		keys, err := signer.ParsePEM(data[name])
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrMalformedKeys, name, err)
		}
		if len(keys) != 1 || (private && !keys[0].CanSign()) {
			return nil, fmt.Errorf("%w: %s: want exactly one key, private but for a previous key", ErrMalformedKeys, name)
		}
		k := &signingKey{PEM: data[name], Kid: keys[0].ID, Alg: keys[0].Alg, Created: now}
		t, ok := meta.Keys[k.Kid]
		if !ok {
			st.Undated = true
		} else {
			k.Created = t.Created
			if t.Activated != nil {
				k.Activated = *t.Activated
			}
			if t.Retired != nil {
				k.Retired = *t.Retired
			}
		}
		return k, nil
	}
	names := make([]string, 0, len(data))
	for name := range data {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case name == keyActiveFile:
			k, err := load(name, true)
			if err != nil {
				return st, err
			}
			if k.Activated.IsZero() {
				k.Activated, st.Undated = now, true
			}
			k.Retired = time.Time{}
			st.Active = k
		case name == keyNextFile:
			k, err := load(name, true)
			if err != nil {
				return st, err
			}
			k.Activated, k.Retired = time.Time{}, time.Time{}
			st.Next = k
		case strings.HasPrefix(name, keyPreviousPfx) && strings.HasSuffix(name, ".pem"):
			k, err := load(name, false) // a public key is fine: it only verifies
			if err != nil {
				return st, err
			}
			if k.Retired.IsZero() {
				k.Retired, st.Undated = now, true
			}
			st.Previous = append(st.Previous, *k)
		}
	}
	slices.SortStableFunc(st.Previous, func(a, b signingKey) int { return a.Retired.Compare(b.Retired) })
	return st, nil
}

// isKeyEntry reports whether name is a Secret key the manager owns.
func isKeyEntry(name string) bool {
	return name == keyActiveFile || name == keyNextFile || name == keyMetadataFile ||
		(strings.HasPrefix(name, keyPreviousPfx) && strings.HasSuffix(name, ".pem"))
}

// encodeKeys returns data with the manager's entries replaced by st's;
// other entries are kept. Every key of st must have its PEM.
func encodeKeys(data map[string][]byte, st keyState) (map[string][]byte, error) {
	out := map[string][]byte{}
	for name, v := range data {
		if !isKeyEntry(name) {
			out[name] = v
		}
	}
	meta := keyMetadata{Keys: map[string]keyTimes{}}
	put := func(name string, k *signingKey) error {
		if k.PEM == nil {
			return fmt.Errorf("encode keys: %s has no key", name)
		}
		out[name] = k.PEM
		t := keyTimes{Created: k.Created.UTC()}
		if !k.Activated.IsZero() {
			a := k.Activated.UTC()
			t.Activated = &a
		}
		if !k.Retired.IsZero() {
			r := k.Retired.UTC()
			t.Retired = &r
		}
		meta.Keys[k.Kid] = t
		return nil
	}
	if st.Active != nil {
		if err := put(keyActiveFile, st.Active); err != nil {
			return nil, err
		}
	}
	if st.Next != nil {
		if err := put(keyNextFile, st.Next); err != nil {
			return nil, err
		}
	}
	for i := range st.Previous {
		if err := put(previousFile(st.Previous[i].Kid), &st.Previous[i]); err != nil {
			return nil, err
		}
	}
	raw, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	out[keyMetadataFile] = raw
	return out, nil
}

// previousFile is the Secret key of a previous key: its kid (base64url,
// valid in a Secret key) keeps names unique and stable.
func previousFile(kid string) string {
	return keyPreviousPfx + kid + ".pem"
}

// fillKeys generates the keys the plan asks for (those without PEM).
func fillKeys(st *keyState, generate func(alg string) (*signer.Key, error)) error {
	for _, k := range []*signingKey{st.Active, st.Next} {
		if k == nil || k.PEM != nil {
			continue
		}
		key, err := generate(k.Alg)
		if err != nil {
			return err
		}
		if k.PEM, err = key.EncodePEM(); err != nil {
			return err
		}
		k.Kid, k.Alg = key.ID, key.Alg
	}
	return nil
}
