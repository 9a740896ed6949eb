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

package token

import (
	"slices"
	"testing"
)

func TestGrantScopes(t *testing.T) {
	cases := []struct {
		requested, user, client, want []string
		err                           bool
	}{
		{nil, []string{"read", "write"}, nil, []string{"read", "write"}, false},
		{nil, []string{"read", "write"}, []string{"read"}, []string{"read"}, false},
		{[]string{"write"}, []string{"read", "write"}, nil, []string{"write"}, false},
		{[]string{"write"}, []string{"read"}, nil, nil, true},
		{[]string{"write"}, []string{"read", "write"}, []string{"read"}, nil, true},
		{nil, nil, nil, nil, false},
	}
	for _, c := range cases {
		got, err := grantScopes(c.requested, c.user, c.client)
		if (err != nil) != c.err || !slices.Equal(got, c.want) {
			t.Errorf("grantScopes(%v, %v, %v) = %v, %v", c.requested, c.user, c.client, got, err)
		}
	}
}
