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

package accesstoken

import (
	"errors"
	"testing"
)

func TestParseBearer(t *testing.T) {
	for _, tc := range []struct {
		header string
		token  string
		err    error
	}{
		{"Bearer abc", "abc", nil},
		{"bearer abc", "abc", nil},
		{"BEARER abc", "abc", nil},
		{"BeArEr a.b.c", "a.b.c", nil},
		{"Bearer abc==", "abc==", nil},
		{"Bearer AZaz09-._~+/", "AZaz09-._~+/", nil},

		{"", "", ErrNoToken},
		{"Basic dXNlcjpwYXNz", "", ErrNoToken},
		{"DPoP abc", "", ErrNoToken},
		{"Bearerabc", "", ErrNoToken},
		{" Bearer abc", "", ErrNoToken},
		{"abc", "", ErrNoToken},

		{"Bearer", "", ErrMalformedBearer},
		{"Bearer ", "", ErrMalformedBearer},
		{"Bearer  abc", "", ErrMalformedBearer},
		{"Bearer\tabc", "", ErrMalformedBearer},
		{"Bearer abc def", "", ErrMalformedBearer},
		{"Bearer abc ", "", ErrMalformedBearer},
		{"Bearer abc\n", "", ErrMalformedBearer},
		{"Bearer a=b", "", ErrMalformedBearer},
		{"Bearer =", "", ErrMalformedBearer},
		{"Bearer ==", "", ErrMalformedBearer},
		{"Bearer a,b", "", ErrMalformedBearer},
		{`Bearer "abc"`, "", ErrMalformedBearer},
		{"Bearer ab\x00c", "", ErrMalformedBearer},
		{"Bearer é", "", ErrMalformedBearer},
		{"Bearer realm=x", "", ErrMalformedBearer},
	} {
		token, err := ParseBearer(tc.header)
		if token != tc.token || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("ParseBearer(%q) = %q, %v; want %q, %v", tc.header, token, err, tc.token, tc.err)
		}
	}
}
