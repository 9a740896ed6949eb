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

package oauth

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// MaxFormBytes bounds the body of a form-encoded request. A token request is
// a few hundred bytes; anything near this is not one.
const MaxFormBytes = 16 << 10

// credentialParams may never travel in a URL query (RFC 6749 §2.3.1, §3.2;
// RFC 9700 §4.3.1): URLs end up in logs and browser histories.
var credentialParams = []string{"password", "client_secret", "client_assertion", "refresh_token", "token", "username", "assertion"}

// Form is a parsed application/x-www-form-urlencoded body in which every
// parameter occurs at most once. Empty values count as absent (RFC 6749 §3.1).
type Form map[string]string

// Get returns the parameter's value, or "" when it is absent.
func (f Form) Get(name string) string { return f[name] }

// ParseForm reads r's body as a strict OAuth form. It answers:
//   - 400 invalid_request when the content type is not form-encoded, when a
//     parameter is repeated, or when a credential appears in the query string;
//   - 413 invalid_request when the body is larger than MaxFormBytes.
func ParseForm(w http.ResponseWriter, r *http.Request) (Form, error) {
	q := r.URL.Query()
	for _, p := range credentialParams {
		if _, ok := q[p]; ok {
			return nil, InvalidRequest("parameter " + p + " must not be sent in the URL query")
		}
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, InvalidRequest("request body must be application/x-www-form-urlencoded")
	}
	buf, err := readLimited(w, r)
	if err != nil {
		return nil, err
	}
	return DecodeForm(buf)
}

// DecodeForm decodes a form body and enforces "at most once" per parameter.
func DecodeForm(body string) (Form, error) {
	vals, err := url.ParseQuery(body)
	if err != nil {
		return nil, InvalidRequest("malformed form body")
	}
	f := make(Form, len(vals))
	for k, vs := range vals {
		if len(vs) > 1 {
			return nil, InvalidRequest("parameter " + Echo(k) + " is repeated")
		}
		if vs[0] != "" {
			f[k] = vs[0]
		}
	}
	return f, nil
}

func readLimited(w http.ResponseWriter, r *http.Request) (string, error) {
	body := http.MaxBytesReader(w, r.Body, MaxFormBytes)
	var b strings.Builder
	_, err := io.Copy(&b, body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			e := InvalidRequest("request body too large")
			e.Status = http.StatusRequestEntityTooLarge
			return "", e
		}
		return "", InvalidRequest("could not read request body")
	}
	return b.String(), nil
}

// Echo makes client input safe to echo in an error description: at most 40
// bytes, and only the characters RFC 6749 §5.2 allows there.
func Echo(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return quoteSafe(s)
}
