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
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/signer"
)

var (
	t0     = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	policy = keyPolicy{Alg: signer.AlgES256, Period: 30 * 24 * time.Hour, PublishDelay: 5 * time.Minute, Retention: 25 * time.Hour}
)

// k is a key with a fake PEM (the planner never parses it).
func k(kid string, created, activated, retired time.Time) *signingKey {
	return &signingKey{PEM: []byte(kid), Kid: kid, Alg: signer.AlgES256, Created: created, Activated: activated, Retired: retired}
}

// kids summarises a state as "active/next/prev,prev"; "?" is a key to generate.
func kids(st keyState) string {
	name := func(k *signingKey) string {
		switch {
		case k == nil:
			return "-"
		case k.PEM == nil:
			return "?"
		}
		return k.Kid
	}
	var prev []string
	for i := range st.Previous {
		prev = append(prev, name(&st.Previous[i]))
	}
	return name(st.Active) + "/" + name(st.Next) + "/" + strings.Join(prev, ",")
}

func TestPlanKeys(t *testing.T) {
	var zero time.Time
	period, delay := policy.Period, policy.PublishDelay
	for _, c := range []struct {
		name    string
		now     time.Time
		cur     keyState
		want    string
		rotated bool
		wake    time.Time
	}{
		{"empty secret: create active", t0, keyState{}, "?/-/", false, t0.Add(period - delay)},
		{"fresh active: nothing", t0.Add(time.Hour), keyState{Active: k("a", t0, t0, zero)}, "a/-/", false, t0.Add(period - delay)},
		{"before publish time", t0.Add(period - delay - time.Second), keyState{Active: k("a", t0, t0, zero)}, "a/-/", false, t0.Add(period - delay)},
		{"publish next", t0.Add(period - delay), keyState{Active: k("a", t0, t0, zero)},
			"a/?/", false, t0.Add(period)},
		{"next not yet promotable", t0.Add(period - time.Second), keyState{Active: k("a", t0, t0, zero), Next: k("n", t0.Add(period-delay), zero, zero)},
			"a/n/", false, t0.Add(period)},
		{"promote next", t0.Add(period), keyState{Active: k("a", t0, t0, zero), Next: k("n", t0.Add(period-delay), zero, zero)},
			"n/-/a", true, t0.Add(period + 25*time.Hour)},
		{"late pass: promote and keep", t0.Add(2 * period), keyState{Active: k("a", t0, t0, zero), Next: k("n", t0.Add(period-delay), zero, zero)},
			"n/-/a", true, t0.Add(2*period + 25*time.Hour)},
		{"previous kept within retention", t0.Add(period + 24*time.Hour), keyState{Active: k("n", t0, t0.Add(period), zero), Previous: []signingKey{*k("a", t0, t0, t0.Add(period))}},
			"n/-/a", false, t0.Add(period + 25*time.Hour)},
		{"previous dropped after retention", t0.Add(period + 25*time.Hour), keyState{Active: k("n", t0, t0.Add(period), zero), Previous: []signingKey{*k("a", t0, t0, t0.Add(period))}},
			"n/-/", false, t0.Add(2*period - delay)},
		{"only the expired previous dropped", t0.Add(25 * time.Hour), keyState{Active: k("c", t0, t0, zero), Previous: []signingKey{*k("a", t0, t0, t0), *k("b", t0, t0, t0.Add(time.Hour))}},
			"c/-/b", false, t0.Add(26 * time.Hour)},
		{"no active, next present: promote", t0, keyState{Next: k("n", t0, zero, zero)}, "n/-/", true, t0.Add(period - delay)},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := planKeys(c.now, c.cur, policy)
			if got := kids(p.State); got != c.want {
				t.Fatalf("state = %s, want %s (changes %q)", got, c.want, p.Changes)
			}
			if (len(p.Changes) > 0) != (kids(c.cur) != c.want) {
				t.Errorf("changes %q for %s → %s", p.Changes, kids(c.cur), c.want)
			}
			if p.Rotated != c.rotated {
				t.Errorf("rotated = %v", p.Rotated)
			}
			if !p.Wake.Equal(c.wake) {
				t.Errorf("wake = %s, want %s", p.Wake, c.wake)
			}
		})
	}
}

func TestPlanKeysTimes(t *testing.T) {
	now := t0.Add(policy.Period)
	cur := keyState{Active: k("a", t0, t0, time.Time{}), Next: k("n", now.Add(-policy.PublishDelay), time.Time{}, time.Time{})}
	p := planKeys(now, cur, policy)
	if !p.State.Active.Activated.Equal(now) || !p.State.Previous[0].Retired.Equal(now) {
		t.Fatalf("promotion times: %+v", p.State)
	}
	if u := planKeys(now.Add(-policy.Period), keyState{Active: k("a", t0, t0, time.Time{}), Undated: true}, policy); len(u.Changes) == 0 {
		t.Fatal("undated keys are not written back")
	}
	if cur.Active.Kid != "a" || cur.Next == nil || len(cur.Previous) != 0 {
		t.Fatal("planKeys changed its input")
	}
}

// TestPlanKeysLifecycle runs the planner pass by pass over two rotations
// and checks the invariants: a key is published PublishDelay before it
// signs, and a retired key is served Retention after its retirement.
func TestPlanKeysLifecycle(t *testing.T) {
	n := 0
	gen := func(alg string) (*signer.Key, error) {
		n++
		return signer.Generate(alg)
	}
	var st keyState
	published := map[string]time.Time{}
	activated := map[string]time.Time{}
	retired := map[string]time.Time{}
	now := t0
	for pass := 0; pass < 20 && now.Before(t0.Add(3*policy.Period)); pass++ {
		p := planKeys(now, st, policy)
		if err := fillKeys(&p.State, gen); err != nil {
			t.Fatal(err)
		}
		st = p.State
		if st.Next != nil {
			if _, ok := published[st.Next.Kid]; !ok {
				published[st.Next.Kid] = now
			}
		}
		if _, ok := activated[st.Active.Kid]; !ok {
			activated[st.Active.Kid] = now
			if pub, ok := published[st.Active.Kid]; ok && now.Sub(pub) < policy.PublishDelay {
				t.Fatalf("key signs %s after it was published", now.Sub(pub))
			}
		}
		for _, k := range st.Previous {
			if _, ok := retired[k.Kid]; !ok {
				retired[k.Kid] = now
			}
		}
		for kid, r := range retired {
			served := st.Active.Kid == kid || slices.ContainsFunc(st.Previous, func(k signingKey) bool { return k.Kid == kid })
			if !served && now.Sub(r) < policy.Retention {
				t.Fatalf("key dropped %s after its retirement", now.Sub(r))
			}
		}
		now = p.Wake
	}
	if len(activated) < 3 || n > len(activated)+1 {
		t.Fatalf("%d keys generated, %d activated; want 3 or more activated, at most one pending", n, len(activated))
	}
}

func TestEncodeDecodeKeys(t *testing.T) {
	st := keyState{Active: &signingKey{Alg: signer.AlgEdDSA, Created: t0, Activated: t0}, Next: &signingKey{Alg: signer.AlgES256, Created: t0}}
	if err := fillKeys(&st, signer.Generate); err != nil {
		t.Fatal(err)
	}
	prev := keyState{Active: &signingKey{Alg: signer.AlgES256}}
	if err := fillKeys(&prev, signer.Generate); err != nil {
		t.Fatal(err)
	}
	st.Previous = []signingKey{{PEM: prev.Active.PEM, Kid: prev.Active.Kid, Alg: signer.AlgES256, Created: t0, Activated: t0, Retired: t0.Add(time.Hour)}}
	data, err := encodeKeys(map[string][]byte{"README": []byte("kept"), "previous-gone.pem": []byte("x")}, st)
	if err != nil {
		t.Fatal(err)
	}
	if string(data["README"]) != "kept" || data["previous-gone.pem"] != nil || data[previousFile(prev.Active.Kid)] == nil {
		t.Fatalf("entries: %v", slices.Sorted(func(yield func(string) bool) {
			for k := range data {
				if !yield(k) {
					return
				}
			}
		}))
	}
	got, err := decodeKeys(data, t0.Add(99*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Undated || got.Active.Kid != st.Active.Kid || got.Active.Alg != signer.AlgEdDSA || !got.Active.Activated.Equal(t0) ||
		got.Next.Kid != st.Next.Kid || !got.Next.Activated.IsZero() ||
		len(got.Previous) != 1 || !got.Previous[0].Retired.Equal(t0.Add(time.Hour)) {
		t.Fatalf("round trip: %+v", got)
	}
	// The server loads the same data as a key directory would hold it.
	if _, err := signer.ParsePEM(data[keyActiveFile]); err != nil {
		t.Fatal(err)
	}

	// Without keys.json (a Secret written by hand), keys are dated now.
	delete(data, keyMetadataFile)
	now := t0.Add(99 * time.Hour)
	got, err = decodeKeys(data, now)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Active.Activated.Equal(now) || !got.Previous[0].Retired.Equal(now) || !got.Undated {
		t.Fatalf("undated keys: %+v", got)
	}
}

// TestDecodeKeysRenamedByHand: a key whose keys.json entry lacks the time
// its new place needs (next.pem renamed to active.pem by hand) is dated
// now and written back, so that it does not stay "just activated".
func TestDecodeKeysRenamedByHand(t *testing.T) {
	st := keyState{Active: &signingKey{Alg: signer.AlgES256, Created: t0}}
	if err := fillKeys(&st, signer.Generate); err != nil {
		t.Fatal(err)
	}
	data, err := encodeKeys(nil, keyState{Next: st.Active})
	if err != nil {
		t.Fatal(err)
	}
	data[keyActiveFile], data[keyNextFile] = data[keyNextFile], nil
	delete(data, keyNextFile)
	now := t0.Add(time.Hour)
	got, err := decodeKeys(data, now)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Undated || !got.Active.Activated.Equal(now) || !got.Active.Created.Equal(t0) {
		t.Fatalf("renamed key: %+v", got)
	}
}

func TestDecodeKeysMalformed(t *testing.T) {
	good := keyState{Active: &signingKey{Alg: signer.AlgES256}}
	if err := fillKeys(&good, signer.Generate); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data map[string][]byte
	}{
		{"bad active", map[string][]byte{keyActiveFile: []byte("not pem")}},
		{"bad next", map[string][]byte{keyActiveFile: good.Active.PEM, keyNextFile: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}},
		{"bad previous", map[string][]byte{keyActiveFile: good.Active.PEM, "previous-x.pem": nil}},
		{"bad metadata", map[string][]byte{keyActiveFile: good.Active.PEM, keyMetadataFile: []byte("{")}},
		{"two keys in active", map[string][]byte{keyActiveFile: append(slices.Clone(good.Active.PEM), good.Active.PEM...)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeKeys(c.data, t0)
			if !errors.Is(err, ErrMalformedKeys) {
				t.Fatalf("err = %v, want ErrMalformedKeys", err)
			}
			if strings.Contains(err.Error(), "AAAA") || strings.Contains(err.Error(), "not pem") {
				t.Fatal("the error quotes key material")
			}
		})
	}
}
