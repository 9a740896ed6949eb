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

package clientauth

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/authstack/authstack/internal/oauth"
)

// peek leaves a ServiceAccount token's algorithm to the cluster (its
// TokenReview), whichever a cluster signs with, refusing only none and
// HMAC; a private_key_jwt assertion's must be one of the keys' and its
// headers those of a client assertion. Only the header and payload are
// read: the signature is not checked here.
func TestPeekJudgesAnAssertionByWhatItIs(t *testing.T) {
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	jwt := func(header, sub string) string {
		return seg(header) + "." + seg(`{"iss":"x","sub":"`+sub+`","aud":"https://auth.example.test"}`) + "." + seg("sig")
	}
	const sa, client = "system:serviceaccount:apps:worker", "keyed"
	for name, tc := range map[string]struct {
		header, sub string
		refusal     string // "" when accepted
	}{
		"ServiceAccount token, ES512":                {`{"alg":"ES512","kid":"k"}`, sa, ""},
		"ServiceAccount token, PS256":                {`{"alg":"PS256"}`, sa, ""},
		"ServiceAccount token, RS256, typ JWT":       {`{"alg":"RS256","typ":"JWT"}`, sa, ""},
		"ServiceAccount token, alg none":             {`{"alg":"none"}`, sa, "asymmetric"},
		"ServiceAccount token, HS256":                {`{"alg":"HS256"}`, sa, "asymmetric"},
		"ServiceAccount token, unknown alg":          {`{"alg":"XX1"}`, sa, "asymmetric"},
		"ServiceAccount token, no alg":               {`{}`, sa, "asymmetric"},
		"assertion, ES256":                           {`{"alg":"ES256"}`, client, ""},
		"assertion, ES512":                           {`{"alg":"ES512"}`, client, "alg must be one of"},
		"assertion, PS256":                           {`{"alg":"PS256"}`, client, "alg must be one of"},
		"assertion, HS256":                           {`{"alg":"HS256"}`, client, "alg must be one of"},
		"assertion, crit":                            {`{"alg":"ES256","crit":["b64"],"b64":false}`, client, "crit"},
		"assertion, typ jwt":                         {`{"alg":"ES256","typ":"jwt"}`, client, ""},
		"assertion, typ application/jwt":             {`{"alg":"ES256","typ":"application/jwt"}`, client, ""},
		"assertion, typ client-authentication":       {`{"alg":"ES256","typ":"client-authentication+jwt"}`, client, ""},
		"assertion, typ at+jwt":                      {`{"alg":"ES256","typ":"at+jwt"}`, client, "typ must be"},
		"assertion, typ JOSE":                        {`{"alg":"ES256","typ":"JOSE"}`, client, "typ must be"},
		"assertion, typ application/":                {`{"alg":"ES256","typ":"application/"}`, client, "typ must be"},
		"ServiceAccount token, crit (the cluster's)": {`{"alg":"RS256","crit":["x"]}`, sa, ""},
	} {
		p, err := peek(jwt(tc.header, tc.sub))
		switch {
		case tc.refusal == "" && err != nil:
			t.Errorf("%s: refused: %v", name, err)
		case tc.refusal == "" && p.serviceAccount != (tc.sub == sa):
			t.Errorf("%s: serviceAccount %v", name, p.serviceAccount)
		case tc.refusal != "" && (oauth.As(err).Code != oauth.CodeInvalidClient || !strings.Contains(oauth.As(err).Description, tc.refusal)):
			t.Errorf("%s: %v, want invalid_client saying %q", name, err, tc.refusal)
		}
	}
}
