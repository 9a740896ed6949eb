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

package credentials

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNameHolder(t *testing.T) {
	at := func(sec int64, src string, held bool) claimant {
		return claimant{source: src, created: metav1.Unix(sec, 0), held: held}
	}
	for _, c := range []struct {
		name          string
		record        string
		recordVisible bool
		claimants     []claimant
		want          string // "" for nobody
	}{
		{"the record's writer holds it, however old the others", "b/alice", true,
			[]claimant{at(10, "a/old", false), at(20, "b/alice", true)}, "b/alice"},
		{"an older object renamed to a held name gets nothing", "b/alice", true,
			[]claimant{at(1, "a/renamed", false), at(50, "b/alice", false)}, "b/alice"},
		{"no record: the status holder keeps it (the store lost its data)", "", true,
			[]claimant{at(1, "a/x", false), at(20, "b/alice", true)}, "b/alice"},
		{"a record of an object that no longer claims it: the status holder", "c/gone", true,
			[]claimant{at(1, "a/x", false), at(20, "b/alice", true)}, "b/alice"},
		{"several status holders after a race: the oldest", "", true,
			[]claimant{at(30, "c/z", true), at(20, "b/y", true), at(10, "a/x", false)}, "b/y"},
		{"status holders tied: by source", "", true,
			[]claimant{at(20, "b/y", true), at(20, "a/y", true)}, "a/y"},
		{"nobody: the first to write takes it", "", true,
			[]claimant{at(1, "a/x", false), at(2, "b/y", false)}, ""},
		{"a stale record and no status holder: nobody", "c/gone", true,
			[]claimant{at(1, "a/x", false)}, ""},
		{"a record from a namespace the manager does not watch", "elsewhere/alice", false,
			[]claimant{at(1, "a/x", true)}, "elsewhere/alice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := nameHolder(c.record, c.recordVisible, c.claimants)
			if !ok {
				got.source = ""
			}
			if got.source != c.want {
				t.Fatalf("holder = %q, want %q", got.source, c.want)
			}
		})
	}
}

func TestVisible(t *testing.T) {
	only := watchedNamespaces([]string{"team-a"})
	for _, c := range []struct {
		src     string
		watched func(string) bool
		want    bool
	}{
		{"team-a/x", only, true}, {"team-b/x", only, false}, {"team-b/x", nil, true}, {"", only, true},
		{"built-in", only, true},
	} {
		if got := visible(c.src, c.watched); got != c.want {
			t.Errorf("visible(%q) = %v, want %v", c.src, got, c.want)
		}
	}
}
