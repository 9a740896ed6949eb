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
