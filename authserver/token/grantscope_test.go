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
