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

package authserver_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// One user with a valid credential and a costly hash, hammering the token
// endpoint over many connections, must not take every hashing slot: the
// other users' logins go through. (The red team's run: 12 connections of
// one user with an argon2id m=64 MiB, t=8 hash gave 503 to 20 of 20 other
// users' logins.)
func TestOneUsersHashesDoNotStarveOthers(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) {
		c.HashPool = password.PoolOptions{Workers: 2, Queue: 4, MaxWait: 5 * time.Second, PerKey: 1}
		c.PerUserIP.Max, c.PerIP.Max = 10_000, 10_000
	}))
	costly := password.Params{Memory: 64 * 1024, Time: 8, Threads: 1, SaltLen: 16, KeyLen: 32}
	h, err := costly.Hash([]byte("mallory-pw"))
	if err != nil {
		t.Fatal(err)
	}
	users := []store.User{{Username: "mallory", PasswordHash: h}}
	for i := range 20 {
		users = append(users, store.User{Username: "user" + strconv.Itoa(i), PasswordHash: authtest.Hash(t, "pw"+strconv.Itoa(i))})
	}
	for _, u := range users {
		if err := ts.store.PutUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				ts.do(passwordLogin("mallory", "mallory-pw", "203.0.113.30:1"))
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()
	// mallory's connections are more than the pool lets her have.
	for ts.metric(t, "authstack_password_hash_overload_total") == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := range 20 {
		name := "user" + strconv.Itoa(i)
		if rec := ts.do(passwordLogin(name, "pw"+strconv.Itoa(i), "198.51.100."+strconv.Itoa(i+1)+":1")); rec.Code != http.StatusOK {
			t.Fatalf("%s while mallory hammers: %d %s", name, rec.Code, rec.Body)
		}
	}
}
