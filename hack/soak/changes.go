//go:build linux

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

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/records"
	"github.com/authstack/authstack/internal/store"
)

// The user changes are made as the manager makes them, without the
// manager: the record an AuthUser's change would give (records.User, the
// manager's own function) is written with the Redis store's PutUser.

// churnUser is the name of churn user i.
func churnUser(i int) string { return fmt.Sprintf("churn-%02d", i) }

// churn is the state of the users whose records change.
type churn struct {
	m        *mix
	hashes   [2]string // of churnPassword(0) and (1)
	password []int     // which password each user has now
	disabled []bool
	step     []int // the next change of each user: 0 password, 1 disable, 2 re-enable
	made     int   // changes made
}

func churnPassword(i int) string { return fmt.Sprintf("churn password %d", i) }

func newChurn(ctx context.Context, m *mix) (*churn, error) {
	ch := &churn{m: m, password: make([]int, m.o.churnUsers), disabled: make([]bool, m.o.churnUsers), step: make([]int, m.o.churnUsers)}
	for i := range ch.hashes {
		h, err := password.DefaultParams.Hash([]byte(churnPassword(i)))
		if err != nil {
			return nil, err
		}
		ch.hashes[i] = h
	}
	for i := range m.o.churnUsers {
		if err := ch.write(ctx, i, false); err != nil {
			return nil, err
		}
	}
	return ch, nil
}

// authUser is the AuthUser churn user i would be.
func (ch *churn) authUser(i int) *v1alpha1.AuthUser {
	return &v1alpha1.AuthUser{
		ObjectMeta: metav1.ObjectMeta{Namespace: "soak", Name: churnUser(i)},
		Spec:       v1alpha1.AuthUserSpec{Username: churnUser(i), Disabled: ch.disabled[i], Scopes: []string{"read"}},
	}
}

// write writes user i's record as the manager would after a change of its
// AuthUser (changed: its Secret's password changed).
func (ch *churn) write(ctx context.Context, i int, changed bool) error {
	existing, err := ch.m.c.st.GetUser(ctx, churnUser(i))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	p := ch.password[i]
	cred := records.Credential{Hash: ch.hashes[p], Version: fmt.Sprintf("soak-%d", p), Changed: changed}
	return ch.m.c.st.PutUser(ctx, records.User(ch.authUser(i), cred, existing, time.Now()))
}

// run makes one change every o.changeEvery until stop ends, the users in
// turn. A change makes its requests with ctx, not stop: one under way
// when the soak ends is finished and checked, as the sessions are, rather
// than cut off and counted as requests without an answer.
func (ch *churn) run(stop, ctx context.Context) {
	t := time.NewTicker(ch.m.o.changeEvery)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-stop.Done():
			return
		case <-t.C:
		}
		ch.change(ctx, n%len(ch.step), n)
		ch.made++
	}
}

// churnLoginsPerChange is how many password grants a change makes, on
// average over its three kinds (change.go: 3, 2 and 1).
const churnLoginsPerChange = 2.0

// change makes user i's next change and checks its effect on the
// replicas, from address addr: a password change refuses the old password
// and the tokens issued before it, and takes the new one; a disabled user
// can neither log in nor use its tokens; a re-enabled one logs in again.
func (ch *churn) change(ctx context.Context, i, addr int) {
	m, user, r := ch.m, churnUser(i), addr%replicas
	step := ch.step[i]
	ch.step[i] = (step + 1) % 3
	var before tokens
	if step != 2 {
		var ok bool
		if before, ok = m.login(ctx, "login of a user before its change", addr, r, user, churnPassword(ch.password[i])); !ok {
			return
		}
	}
	old := ch.password[i]
	switch step {
	case 0:
		ch.password[i] = 1 - old
	case 1:
		ch.disabled[i] = true
	case 2:
		ch.disabled[i] = false
	}
	if err := ch.write(ctx, i, step == 0); err != nil {
		m.t.fail("user change", err.Error())
		return
	}
	switch step {
	case 0:
		m.t.check("login with the password before the change", m.c.login(ctx, addr, r+1, user, churnPassword(old)), "invalid_grant", http.StatusBadRequest)
		m.login(ctx, "login with the changed password", addr, r+2, user, churnPassword(ch.password[i]))
		m.awaitRefused(ctx, "verify of a token issued before the password change", addr, r+1, before.Access)
	case 1:
		m.awaitRefused(ctx, "verify of a token of a disabled user", addr, r+1, before.Access)
		m.t.check("login of a disabled user", m.c.login(ctx, addr, r+2, user, churnPassword(ch.password[i])), "invalid_grant", http.StatusBadRequest)
		m.t.check("refresh of a disabled user's session", m.c.refresh(ctx, addr, r, before.Refresh), "invalid_grant", http.StatusBadRequest)
	case 2:
		if tok, ok := m.login(ctx, "login of a re-enabled user", addr, r+1, user, churnPassword(ch.password[i])); ok {
			m.t.check("verify", m.c.verify(ctx, addr, r+2, tok.Access), "", http.StatusOK)
		}
	}
}
