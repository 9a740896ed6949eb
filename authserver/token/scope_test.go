package token

import (
	"slices"
	"strings"
	"testing"
)

func TestParseScope(t *testing.T) {
	for in, want := range map[string][]string{
		"":               nil,
		"read":           {"read"},
		"read write":     {"read", "write"},
		"read read":      {"read"},
		"urn:x:y a/b!#~": {"urn:x:y", "a/b!#~"},
	} {
		got, err := ParseScope(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseScope(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{" ", "read ", " read", "read  write", "a\"b", `a\b`, "a\tb", "é"} {
		if _, err := ParseScope(bad); err == nil {
			t.Errorf("ParseScope(%q) accepted", bad)
		}
	}
}

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

// FuzzParseScope: accepted scopes are exactly space-joined valid tokens.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"read write", "a  b", "\x7f", "x\"y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseScope(s)
		if err != nil {
			return
		}
		for _, tok := range got {
			if !ValidScopeToken(tok) || strings.Contains(tok, " ") {
				t.Fatalf("accepted token %q", tok)
			}
		}
	})
}
