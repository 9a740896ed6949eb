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
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/records"
)

// Verdict is the answer: whether anything stops the user from logging in.
type Verdict string

// The verdicts, and the exit codes of `authstack status`.
const (
	// VerdictOK is nothing the manager reflects stops her (exit 0).
	VerdictOK Verdict = "ok"
	// VerdictBlocked is something does: a blocking finding (exit 1).
	VerdictBlocked Verdict = "blocked"
	// VerdictUnknown is no AuthUser found where the caller could read,
	// and a namespace she could not (exit 2).
	VerdictUnknown Verdict = "unknown"
)

// The codes of findings. They are a stable interface (scripts match
// them): new ones may be added, none is renamed.
const (
	CodeNotFound      = "NotFound"
	CodeForbidden     = "Forbidden"
	CodeOtherUsername = "OtherUsername"
	CodeDisabled      = "Disabled"
	CodeNotReady      = "NotReady"
	CodeNotReconciled = "NotReconciled"
	CodeConflict      = "UsernameConflict"
	CodeThrottled     = "Throttled"
	// CodeTokensRefusedUntil is a spec.revokeTokensBefore in the future.
	CodeTokensRefusedUntil = "TokensRefusedUntil"
	CodePasswordChanged    = "PasswordChanged"
	CodeTokensRevoked      = "TokensRevoked"
	CodeLastLogin          = "LastLogin"
)

// Report is the answer for one username; `-o json` prints it.
type Report struct {
	// Username is the canonical (lower-case) form asked about.
	Username string  `json:"username"`
	Verdict  Verdict `json:"verdict"`
	Searched Search  `json:"searched"`
	// AuthUsers are the AuthUsers that claim the username.
	AuthUsers []User `json:"authUsers"`
	// Findings are what stops her (blocking) and what she may notice,
	// blocking ones first.
	Findings []Finding `json:"findings"`
}

// User is what the report shows of one AuthUser; times are UTC.
type User struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Username  string `json:"username"`
	// HoldsUsername is set when its status says it holds the username:
	// its record is the one the token servers check.
	HoldsUsername       bool       `json:"holdsUsername"`
	Disabled            bool       `json:"disabled"`
	Ready               *Ready     `json:"ready,omitempty"`
	LastLoginTime       *time.Time `json:"lastLoginTime,omitempty"`
	Throttle            *Throttle  `json:"throttle,omitempty"`
	PasswordChangedTime *time.Time `json:"passwordChangedTime,omitempty"`
	TokensNotBefore     *time.Time `json:"tokensNotBefore,omitempty"`
	RevokeTokensBefore  *time.Time `json:"revokeTokensBefore,omitempty"`
}

// Ready is an AuthUser's Ready condition.
type Ready struct {
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Current is set when the condition is of the AuthUser's current
	// generation (the manager has seen its latest spec).
	Current bool `json:"current"`
}

// Throttle is status.throttle.
type Throttle struct {
	Until time.Time `json:"until"`
	Limit string    `json:"limit"`
}

// Finding is one answer.
type Finding struct {
	Code string `json:"code"`
	// Blocking is set when it stops her logging in.
	Blocking bool `json:"blocking"`
	// AuthUser is the "namespace/name" it is about, if one.
	AuthUser string `json:"authUser,omitempty"`
	// Time is the finding's time (throttled until, password changed at,
	// tokens refused before, last login), in UTC.
	Time    *time.Time `json:"time,omitempty"`
	Message string     `json:"message"`
}

// Diagnose answers for username from what Find read, at now, with times
// in the messages written in loc.
func Diagnose(username string, f Found, now time.Time, loc *time.Location) Report {
	d := &diagnosis{name: v1alpha1.CanonicalName(username), now: now, loc: loc}
	r := Report{Username: d.name, Searched: f.Search, AuthUsers: []User{}}
	for i := range f.Claimants {
		r.AuthUsers = append(r.AuthUsers, summary(&f.Claimants[i], d.name))
	}
	holder := holderOf(f.Claimants, d.name)
	switch {
	case len(f.Claimants) == 0:
		d.notFound(f)
	case holder != nil:
		d.user(holder, true)
		for i := range f.Claimants {
			if c := &f.Claimants[i]; c != holder {
				d.add(c, CodeConflict, true, nil, "AuthUser %s also claims username %q, which AuthUser %s holds: logins as %q are checked against %s's password, not %s's%s.",
					records.Source(c), d.name, records.Source(holder), d.name, records.Source(holder), records.Source(c), readySuffix(c))
			}
		}
	default:
		if len(f.Claimants) > 1 {
			var names []string
			for i := range f.Claimants {
				names = append(names, records.Source(&f.Claimants[i]))
			}
			d.add(nil, CodeConflict, false, nil, "%d AuthUsers claim username %q and none holds it: %s; the first the manager syncs takes it.",
				len(names), d.name, sentence(names))
		}
		for i := range f.Claimants {
			d.user(&f.Claimants[i], false)
		}
	}
	if len(f.Claimants) > 0 && len(f.Search.Forbidden) > 0 {
		d.add(nil, CodeForbidden, false, nil, "You may not list AuthUsers in %s: one there could claim %q too.",
			namespaces(f.Search.Forbidden), d.name)
	}
	slices.SortStableFunc(d.findings, func(a, b Finding) int {
		return cmp.Compare(rank(a), rank(b))
	})
	r.Findings = d.findings
	switch {
	case slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Blocking }):
		r.Verdict = VerdictBlocked
	case len(f.Claimants) == 0:
		r.Verdict = VerdictUnknown
	default:
		r.Verdict = VerdictOK
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	return r
}

func rank(f Finding) int {
	if f.Blocking {
		return 0
	}
	return 1
}

// holderOf is the claimant whose status says it holds name: the oldest,
// if a race left several (the manager's rule, nameHolder).
func holderOf(cs []v1alpha1.AuthUser, name string) *v1alpha1.AuthUser {
	var best *v1alpha1.AuthUser
	for i := range cs {
		c := &cs[i]
		if c.Status.Username != name {
			continue
		}
		if best == nil || c.CreationTimestamp.Before(&best.CreationTimestamp) ||
			(c.CreationTimestamp.Equal(&best.CreationTimestamp) && records.Source(c) < records.Source(best)) {
			best = c
		}
	}
	return best
}

type diagnosis struct {
	name     string
	now      time.Time
	loc      *time.Location
	findings []Finding
}

func (d *diagnosis) add(u *v1alpha1.AuthUser, code string, blocking bool, at *metav1.Time, format string, args ...any) {
	f := Finding{Code: code, Blocking: blocking, Message: fmt.Sprintf(format, args...)}
	if u != nil {
		f.AuthUser = records.Source(u)
	}
	f.Time = utc(at)
	d.findings = append(d.findings, f)
}

// when is t in the reader's time zone, and how far from now.
func (d *diagnosis) when(t metav1.Time) string {
	s := t.In(d.loc).Format("2006-01-02 15:04:05 MST")
	if dt := t.Sub(d.now); dt >= 0 {
		return s + ", in " + human(dt)
	}
	return s + ", " + human(d.now.Sub(t.Time)) + " ago"
}

// human is a duration to the second, in at most two units.
func human(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Hour:
		return d.String()
	case d < 48*time.Hour:
		return strings.TrimSuffix(d.Truncate(time.Minute).String(), "0s")
	}
	day := 24 * time.Hour
	return fmt.Sprintf("%dd%dh", d/day, (d%day)/time.Hour)
}

func (d *diagnosis) notFound(f Found) {
	where := "in any namespace"
	if read := f.Search.Namespaces; !f.Search.AllNamespaces || len(f.Search.Forbidden) > 0 {
		where = "in " + namespaces(read)
		if len(read) == 0 {
			where = "anywhere you could read"
		}
	}
	switch {
	case len(f.Search.Forbidden) > 0:
		d.add(nil, CodeForbidden, false, nil, "No AuthUser claims username %q %s, but you may not list AuthUsers in %s: it may be there (you need list on authusers.authstack.dev).",
			d.name, where, namespaces(f.Search.Forbidden))
	default:
		hint := ""
		if !f.Search.AllNamespaces {
			hint = " Usernames are unique across namespaces: look in every one with --all-namespaces."
		}
		d.add(nil, CodeNotFound, true, nil, "No AuthUser claims username %q %s: the token servers refuse it as unknown.%s", d.name, where, hint)
	}
	for i := range f.Named {
		u := &f.Named[i]
		d.add(u, CodeOtherUsername, false, nil, "AuthUser %s is named %q, but its username is %q (spec.username): log in as %q.",
			records.Source(u), u.Name, u.EffectiveUsername(), u.EffectiveUsername())
	}
}

// user reports what stops the claimant u; holder is set when it holds the
// name.
func (d *diagnosis) user(u *v1alpha1.AuthUser, holder bool) {
	src := records.Source(u)
	before := len(d.findings)
	if u.Spec.Disabled {
		d.add(u, CodeDisabled, true, nil, "AuthUser %s is disabled (spec.disabled): logins as %q are refused, and so are the tokens already issued.", src, d.name)
	}
	ready := meta.FindStatusCondition(u.Status.Conditions, v1alpha1.ConditionTypeReady)
	switch {
	case ready == nil:
		d.add(u, CodeNotReconciled, true, nil, "AuthUser %s has no Ready condition: the manager has not reconciled it (is it running, and does it watch namespace %q?).", src, u.Namespace)
	case ready.Status != metav1.ConditionTrue && ready.Reason == v1alpha1.ReasonUsernameConflict:
		d.add(u, CodeConflict, true, nil, "AuthUser %s claims username %q, which another AuthUser holds, in a namespace you did not or may not read: logins as %q are checked against that one's password, not %s's (%s: %s).",
			src, d.name, d.name, src, ready.Reason, ready.Message)
	case ready.Status != metav1.ConditionTrue:
		d.add(u, CodeNotReady, true, nil, "AuthUser %s is not Ready: %s (%s: %s).%s", src, explain(ready.Reason), ready.Reason, ready.Message, recordNote(ready.Reason, holder, d.name))
	case ready.ObservedGeneration != u.Generation:
		d.add(u, CodeNotReconciled, false, nil, "AuthUser %s changed since the manager last reconciled it (generation %d, Ready of %d): its latest change may not be in force yet.",
			src, u.Generation, ready.ObservedGeneration)
	}
	if !holder && !slices.ContainsFunc(d.findings[before:], func(f Finding) bool { return f.Blocking }) {
		d.add(u, CodeNotReconciled, true, nil, "AuthUser %s does not hold username %q yet (its status.username is %q): the manager has not written its record.", src, d.name, u.Status.Username)
	}
	st := u.Status
	if th := st.Throttle; th != nil && th.Until.After(d.now) {
		d.add(u, CodeThrottled, true, &th.Until, "Logins as %q are refused until %s: %s.", d.name, d.when(th.Until), limitText(th.Limit))
	}
	rtb := u.Spec.RevokeTokensBefore
	future := rtb != nil && rtb.After(d.now)
	if future {
		d.add(u, CodeTokensRefusedUntil, true, rtb, "spec.revokeTokensBefore is in the future, %s: every token issued before then is refused, so a login succeeds but its tokens do not work until then.", d.when(*rtb))
	}
	if pc := st.PasswordChangedTime; pc != nil {
		d.add(u, CodePasswordChanged, false, pc, "The password was changed at %s: tokens issued before it are refused, and the old password no longer works.", d.when(*pc))
	}
	nb := st.TokensNotBefore
	if nb == nil && rtb != nil {
		nb = rtb
	}
	if nb != nil && !future {
		d.add(u, CodeTokensRevoked, false, nb, "Tokens issued before %s are refused%s: a session from before then must log in again.", d.when(*nb), revokedBy(u, *nb))
	}
	if ll := st.LastLoginTime; ll != nil {
		d.add(u, CodeLastLogin, false, ll, "Last login: %s.", d.when(*ll))
	}
}

// revokedBy names what moved the not-before to nb, when the status tells.
func revokedBy(u *v1alpha1.AuthUser, nb metav1.Time) string {
	sameSecond := func(t *metav1.Time) bool {
		return t != nil && t.Truncate(time.Second).Equal(nb.Truncate(time.Second))
	}
	switch {
	case sameSecond(u.Spec.RevokeTokensBefore):
		return " (spec.revokeTokensBefore)"
	case sameSecond(u.Status.PasswordChangedTime):
		return " (the password change)"
	}
	return " (the record's not-before: set when it was written anew, and moved by a password change, disabling or spec.revokeTokensBefore)"
}

// explain says in plain words what a Ready reason means for logging in.
func explain(reason string) string {
	switch reason {
	case v1alpha1.ReasonSecretNotFound:
		return "its password Secret does not exist"
	case v1alpha1.ReasonSecretKeyMissing:
		return "its password Secret lacks the key it names, or the value is empty"
	case v1alpha1.ReasonInvalidHash:
		return "the hash in its Secret is neither bcrypt nor argon2id, or costs more than the servers allow"
	case v1alpha1.ReasonStoreUnavailable:
		return "the manager cannot reach the credential store (Redis); if the token servers cannot either, nobody can log in"
	case v1alpha1.ReasonNotAllowed:
		return "a TenancyPolicy does not let its namespace use this username, its groups or its scopes, so it has no record"
	case v1alpha1.ReasonInvalidGroup:
		return "one of its groups is reserved (system:) or malformed, so it has no record"
	case v1alpha1.ReasonTokenTooLarge:
		return "its username, groups and scopes would make tokens larger than validators accept, so it has no record"
	case v1alpha1.ReasonReconcileError:
		return "the manager failed to reconcile it (its log says why)"
	}
	return "the manager could not sync it"
}

// recordNote says what a holder's broken Secret leaves working.
func recordNote(reason string, holder bool, name string) string {
	switch reason {
	case v1alpha1.ReasonSecretNotFound, v1alpha1.ReasonSecretKeyMissing, v1alpha1.ReasonInvalidHash:
		if holder {
			return " The store keeps the last password that worked, so the old password may still work; a new one is not applied until this is fixed."
		}
		return fmt.Sprintf(" No record is stored for it, so nobody can log in as %q with it.", name)
	}
	return ""
}

func limitText(limit string) string {
	switch limit {
	case v1alpha1.ThrottleLimitUserIP:
		return "too many failed logins from one address (limit user_ip); that address is refused, others are not"
	case v1alpha1.ThrottleLimitUserRate:
		return "too many attempts, from any address (limit user_rate)"
	}
	return "limit " + limit
}

// readySuffix is ", Ready: Reason" for an AuthUser with a Ready condition.
func readySuffix(u *v1alpha1.AuthUser) string {
	if c := meta.FindStatusCondition(u.Status.Conditions, v1alpha1.ConditionTypeReady); c != nil {
		return " (Ready: " + c.Reason + ")"
	}
	return ""
}

func namespaces(nss []string) string {
	quoted := make([]string, len(nss))
	for i, ns := range nss {
		quoted[i] = fmt.Sprintf("%q", ns)
	}
	if len(nss) == 1 {
		return "namespace " + quoted[0]
	}
	return "namespaces " + sentence(quoted)
}

func summary(u *v1alpha1.AuthUser, name string) User {
	s := User{
		Namespace: u.Namespace, Name: u.Name, Username: u.EffectiveUsername(),
		HoldsUsername: u.Status.Username == name, Disabled: u.Spec.Disabled,
		LastLoginTime: utc(u.Status.LastLoginTime), PasswordChangedTime: utc(u.Status.PasswordChangedTime),
		TokensNotBefore: utc(u.Status.TokensNotBefore), RevokeTokensBefore: utc(u.Spec.RevokeTokensBefore),
	}
	if c := meta.FindStatusCondition(u.Status.Conditions, v1alpha1.ConditionTypeReady); c != nil {
		s.Ready = &Ready{Status: string(c.Status), Reason: c.Reason, Message: c.Message, Current: c.ObservedGeneration == u.Generation}
	}
	if th := u.Status.Throttle; th != nil {
		s.Throttle = &Throttle{Until: th.Until.UTC(), Limit: th.Limit}
	}
	return s
}

func utc(t *metav1.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
