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

package userstatus

import (
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
)

var (
	now  = time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	cest = time.FixedZone("CEST", 2*60*60)
)

func authUser(ns, name string, created time.Duration, held string, ready metav1.ConditionStatus, reason string) v1alpha1.AuthUser {
	u := v1alpha1.AuthUser{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1,
		CreationTimestamp: metav1.NewTime(now.Add(created))}}
	u.Status.Username = held
	if reason != "" {
		u.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionTypeReady, Status: ready, Reason: reason, ObservedGeneration: 1}}
	}
	return u
}

func codes(r Report) []string {
	var out []string
	for _, f := range r.Findings {
		c := f.Code
		if f.Blocking {
			c += "!"
		}
		out = append(out, c)
	}
	return out
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                     "0s",
		45*time.Second + 400*time.Millisecond: "45s",
		10*time.Minute + 29*time.Second:       "10m29s",
		3*time.Hour + 2*time.Minute + 59*time.Second: "3h2m",
		49 * time.Hour: "2d1h",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q, want %q", d, got, want)
		}
	}
}

// Times are written in the reader's zone, with how far they are from now.
func TestTimesInTheReadersZone(t *testing.T) {
	u := authUser("a", "alice", -time.Hour, "alice", metav1.ConditionTrue, v1alpha1.ReasonSynced)
	u.Status.Throttle = &v1alpha1.AuthUserThrottle{Until: metav1.NewTime(now.Add(3*time.Minute + 20*time.Second)), Limit: "user_ip"}
	r := Diagnose("alice", Found{Claimants: []v1alpha1.AuthUser{u}}, now, cest)
	if got := r.Findings[0].Message; !strings.Contains(got, "until 2026-12-02 16:03:20 CEST, in 3m20s:") {
		t.Fatalf("throttle finding %q", got)
	}
	if got := r.Findings[0].Time; got == nil || !got.Equal(now.Add(200*time.Second)) || got.Location() != time.UTC {
		t.Fatalf("finding time %v, want UTC", got)
	}
}

// Of two AuthUsers whose status says they hold the name (a race), the
// oldest does, as for the manager; the other is a conflict.
func TestTheOldestHolderHolds(t *testing.T) {
	young := authUser("b", "alice", -time.Minute, "alice", metav1.ConditionTrue, v1alpha1.ReasonSynced)
	old := authUser("a", "alice", -time.Hour, "alice", metav1.ConditionTrue, v1alpha1.ReasonSynced)
	r := Diagnose("Alice", Found{Claimants: []v1alpha1.AuthUser{young, old}}, now, time.UTC)
	if got := strings.Join(codes(r), " "); got != "UsernameConflict!" {
		t.Fatalf("findings %s", got)
	}
	if f := r.Findings[0]; f.AuthUser != "b/alice" || !strings.Contains(f.Message, "which AuthUser a/alice holds") {
		t.Fatalf("finding %+v", f)
	}
}

// Claimants of which none holds the name yet: each one's own state stops
// her; one that is Ready but holds nothing has not been written.
func TestNoHolder(t *testing.T) {
	a := authUser("a", "alice", -time.Hour, "", metav1.ConditionFalse, v1alpha1.ReasonUsernameConflict)
	b := authUser("b", "alice", -time.Minute, "", metav1.ConditionTrue, v1alpha1.ReasonSynced)
	r := Diagnose("alice", Found{Claimants: []v1alpha1.AuthUser{a, b}}, now, time.UTC)
	if got := strings.Join(codes(r), " "); got != "UsernameConflict! NotReconciled! UsernameConflict" {
		t.Fatalf("findings %s", got)
	}
	if r.Verdict != VerdictBlocked {
		t.Fatalf("verdict %s", r.Verdict)
	}
}

// A spec the manager has not seen yet is noted, and stops nothing by
// itself.
func TestNotYetReconciled(t *testing.T) {
	u := authUser("a", "alice", -time.Hour, "alice", metav1.ConditionTrue, v1alpha1.ReasonSynced)
	u.Generation = 2
	r := Diagnose("alice", Found{Claimants: []v1alpha1.AuthUser{u}}, now, time.UTC)
	if got := strings.Join(codes(r), " "); got != "NotReconciled" || r.Verdict != VerdictOK {
		t.Fatalf("findings %s, verdict %s", got, r.Verdict)
	}
	if r.AuthUsers[0].Ready.Current {
		t.Fatal("a Ready of generation 1 for generation 2 is reported current")
	}
}

// The text lists what stops her, then what else she may notice.
func TestText(t *testing.T) {
	u := authUser("a", "alice", -time.Hour, "alice", metav1.ConditionTrue, v1alpha1.ReasonSynced)
	u.Spec.Disabled = true
	ll := metav1.NewTime(now.Add(-90 * time.Second))
	u.Status.LastLoginTime = &ll
	var b strings.Builder
	if err := Diagnose("alice", Found{Claimants: []v1alpha1.AuthUser{u}}, now, time.UTC).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `"alice" cannot log in:
  - AuthUser a/alice is disabled (spec.disabled): logins as "alice" are refused, and so are the tokens already issued.
Also:
  - Last login: 2026-12-02 13:58:30 UTC, 1m30s ago.
`
	if b.String() != want {
		t.Fatalf("text\n%s\nwant\n%s", b.String(), want)
	}
}

// docs/operations.md documents every finding's code and every verdict
// (the -o json schema scripts rely on).
func TestEveryCodeIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{CodeNotFound, CodeForbidden, CodeOtherUsername, CodeDisabled, CodeNotReady, CodeNotReconciled,
		CodeConflict, CodeThrottled, CodeTokensRefusedUntil, CodePasswordChanged, CodeTokensRevoked, CodeLastLogin,
		string(VerdictOK), string(VerdictBlocked), string(VerdictUnknown)} {
		if !strings.Contains(string(doc), "`"+c+"`") {
			t.Errorf("docs/operations.md does not name %q", c)
		}
	}
}
