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

package records

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/store"
)

func TestUserNotBefore(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	earlier := now.Add(-time.Hour)
	later := now.Add(time.Hour)
	user := func(mut func(*v1alpha1.AuthUser)) *v1alpha1.AuthUser {
		u := &v1alpha1.AuthUser{}
		u.Namespace, u.Name = "ns", "alice"
		if mut != nil {
			mut(u)
		}
		return u
	}
	mine := store.User{Username: "alice", Source: "ns/alice", PasswordHash: "h", NotBefore: earlier}
	for _, c := range []struct {
		name     string
		u        *v1alpha1.AuthUser
		cred     Credential
		existing store.User
		want     time.Time
	}{
		{"new record starts now", user(nil), Credential{Hash: "h"}, store.User{}, now},
		{"another resource's record starts now", user(nil), Credential{Hash: "h"}, store.User{Username: "alice", Source: "other/alice", NotBefore: earlier}, now},
		{"unchanged record keeps its time", user(nil), Credential{Hash: "h"}, mine, earlier},
		{"password change moves it to now", user(nil), Credential{Hash: "h2", Changed: true}, mine, now},
		{"disabling moves it to now", user(func(u *v1alpha1.AuthUser) { u.Spec.Disabled = true }), Credential{Hash: "h"}, mine, now},
		{"staying disabled keeps it", user(func(u *v1alpha1.AuthUser) { u.Spec.Disabled = true }), Credential{Hash: "h"},
			store.User{Username: "alice", Source: "ns/alice", Disabled: true, NotBefore: earlier}, earlier},
		{"enabling keeps it: nothing comes back", user(nil), Credential{Hash: "h"},
			store.User{Username: "alice", Source: "ns/alice", Disabled: true, NotBefore: earlier}, earlier},
		{"later revokeTokensBefore wins", user(func(u *v1alpha1.AuthUser) { u.Spec.RevokeTokensBefore = &metav1.Time{Time: later} }), Credential{Hash: "h"}, mine, later},
		{"older revokeTokensBefore cannot move it back", user(func(u *v1alpha1.AuthUser) {
			u.Spec.RevokeTokensBefore = &metav1.Time{Time: earlier.Add(-time.Hour)}
		}), Credential{Hash: "h"}, mine, earlier},
		// Tokens carry the record's not-before to the millisecond: every
		// move is a whole millisecond and at least one past the old value.
		{"a move is to the millisecond", user(nil), Credential{Hash: "h2", Changed: true},
			store.User{Username: "alice", Source: "ns/alice", NotBefore: earlier}, now},
		{"a move within the old millisecond still moves", user(nil), Credential{Hash: "h2", Changed: true},
			store.User{Username: "alice", Source: "ns/alice", NotBefore: now.Add(400 * time.Microsecond)}, now.Add(time.Millisecond)},
		{"a move behind the old value (clock went back) still moves", user(nil), Credential{Hash: "h2", Changed: true},
			store.User{Username: "alice", Source: "ns/alice", NotBefore: later}, later.Add(time.Millisecond)},
		{"a new record after another's later not-before", user(nil), Credential{Hash: "h"},
			store.User{Username: "alice", Source: "other/alice", NotBefore: later}, later.Add(time.Millisecond)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := User(c.u, c.cred, c.existing, now.Add(700*time.Microsecond))
			if !got.NotBefore.Equal(c.want) {
				t.Fatalf("NotBefore = %v, want %v", got.NotBefore, c.want)
			}
			if got.Source != "ns/alice" || got.Username != "alice" || got.PasswordHash != c.cred.Hash {
				t.Fatalf("record %+v", got)
			}
		})
	}
}

// SameUser and SameClient compare every field of the records: a field
// added to store.User or store.Client and forgotten here would let the
// manager skip writing a change to it.
func TestSameComparesEveryField(t *testing.T) {
	check := func(name string, rec any, same func(a, b any) bool) {
		v := reflect.ValueOf(rec)
		for i := range v.NumField() {
			changed := reflect.New(v.Type()).Elem()
			changed.Set(v)
			f := changed.Field(i)
			switch f.Kind() {
			case reflect.String:
				f.SetString(f.String() + "x")
			case reflect.Bool:
				f.SetBool(!f.Bool())
			case reflect.Int64:
				f.SetInt(f.Int() + 1)
			case reflect.Slice:
				f.Set(reflect.Append(f, reflect.ValueOf("x")))
			case reflect.Struct: // time.Time
				f.Set(reflect.ValueOf(f.Interface().(time.Time).Add(time.Second)))
			case reflect.Pointer: // *store.ServiceAccount: another account
				p := reflect.New(f.Type().Elem())
				p.Elem().Set(f.Elem())
				p.Elem().Field(0).SetString(p.Elem().Field(0).String() + "x")
				f.Set(p)
			default:
				t.Fatalf("%s.%s: a field of kind %s the test does not change", name, v.Type().Field(i).Name, f.Kind())
			}
			if same(rec, changed.Interface()) {
				t.Errorf("%s: a change of %s is not seen", name, v.Type().Field(i).Name)
			}
		}
	}
	check("SameUser", store.User{Username: "alice", Scopes: []string{"a"}, NotBefore: time.Unix(1, 0)},
		func(a, b any) bool { return SameUser(a.(store.User), b.(store.User)) })
	sa := store.ServiceAccount{Namespace: "ns", Name: "sa", UID: "u1"}
	rec := store.Client{ID: "cli", GrantTypes: []string{"password"}, ServiceAccount: &sa, NotBefore: time.Unix(1, 0)}
	check("SameClient", rec, func(a, b any) bool { return SameClient(a.(store.Client), b.(store.Client)) })
	// The ServiceAccount by value, as the store returns a new one each time;
	// its UID too.
	same := rec
	same.ServiceAccount = &store.ServiceAccount{Namespace: "ns", Name: "sa", UID: "u1"}
	if !SameClient(rec, same) {
		t.Error("SameClient: an equal ServiceAccount at another address is a change")
	}
	same.ServiceAccount.UID = ""
	if SameClient(rec, same) {
		t.Error("SameClient: a change of the ServiceAccount's UID is not seen")
	}
	same.ServiceAccount = nil
	if SameClient(rec, same) {
		t.Error("SameClient: a removed ServiceAccount is not seen")
	}
}
