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
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// Errors of checkJSON, kept as causes of "malformed token".
var (
	errDuplicateMember = errors.New("duplicate member name")
	errDateNotNumber   = errors.New("exp, iat or nbf is not a JSON number")
	errNotObject       = errors.New("not a JSON object")
)

// checkJSON checks the JOSE header and the claims set of a compact JWS
// before the jwt library reads them, for what encoding/json lets through:
//
//   - duplicate member names (RFC 7515 §5.2 and RFC 7519 §4: a parser MUST
//     reject them or use the lexically last one). encoding/json keeps the
//     last, another parser the first; authstack rejects them, so that two
//     such readers of one token cannot disagree about it. Names are
//     compared exactly, as the RFCs do (encoding/json also matches struct
//     fields case-insensitively, which only tokens this server did not
//     sign could exploit).
//   - exp, iat and nbf that are not JSON numbers (NumericDate, RFC 7519
//     §2). golang-jwt reads them through json.Number, which takes a JSON
//     string holding a number as well ("exp":"9999999999").
//
// Only what it can split and decode is checked; the jwt parser reports a
// malformed token for the rest.
func checkJSON(raw string) error {
	header, rest, ok := strings.Cut(raw, ".")
	if !ok {
		return nil
	}
	claims, _, ok := strings.Cut(rest, ".")
	if !ok {
		return nil
	}
	if err := checkSegment(header, false); err != nil {
		return err
	}
	return checkSegment(claims, true)
}

// checkSegment decodes one base64url segment and checks its JSON object;
// dates says whether it is the claims set.
func checkSegment(seg string, dates bool) error {
	b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return nil // left to the jwt parser
	}
	if err := checkObject(b, dates); err != nil {
		return invalid("malformed token", err)
	}
	return nil
}

// checkObject checks the members of the JSON object b: names unique and,
// with dates, exp, iat and nbf numbers. It only scans the structure, so it
// accepts some invalid JSON that encoding/json refuses afterwards; on valid
// JSON it sees exactly the members encoding/json sees.
func checkObject(b []byte, dates bool) error {
	s := scanner{b: b}
	if !s.skip('{') {
		return errNotObject
	}
	var small [16][]byte
	names := small[:0]
	var many map[string]struct{} // past len(small) names
	if s.skip('}') {
		return s.end()
	}
	for {
		name, ok := s.name()
		if !ok || !s.skip(':') {
			return errNotObject
		}
		if dates && isDate(name) && !s.number() {
			return errDateNotNumber
		}
		switch {
		case many != nil:
			if _, dup := many[string(name)]; dup {
				return errDuplicateMember
			}
			many[string(name)] = struct{}{}
		case len(names) < len(small):
			for _, n := range names {
				if bytes.Equal(n, name) {
					return errDuplicateMember
				}
			}
			names = append(names, name)
		default:
			many = make(map[string]struct{}, 2*len(names))
			for _, n := range names {
				many[string(n)] = struct{}{}
			}
			if _, dup := many[string(name)]; dup {
				return errDuplicateMember
			}
			many[string(name)] = struct{}{}
		}
		if !s.value() {
			return errNotObject
		}
		if s.skip('}') {
			return s.end()
		}
		if !s.skip(',') {
			return errNotObject
		}
	}
}

func isDate(name []byte) bool {
	return len(name) == 3 && (string(name) == "exp" || string(name) == "iat" || string(name) == "nbf")
}

// scanner walks a JSON text.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// skip consumes c after whitespace, if it is there.
func (s *scanner) skip(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports errNotObject unless only whitespace follows.
func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return errNotObject
	}
	return nil
}

// name reads a member name: its bytes when it is plain ASCII without
// escapes (the raw text is the name), else the name as encoding/json
// decodes it.
func (s *scanner) name() ([]byte, bool) {
	s.ws()
	start := s.i
	plain, ok := s.str()
	if !ok {
		return nil, false
	}
	if plain {
		return s.b[start+1 : s.i-1], true
	}
	var n string
	if json.Unmarshal(s.b[start:s.i], &n) != nil {
		return nil, false
	}
	return []byte(n), true
}

// str consumes a JSON string and reports whether it was plain ASCII
// without escapes.
func (s *scanner) str() (plain, ok bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false, false
	}
	plain = true
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return plain, true
		case c == '\\':
			plain = false
			s.i++ // the escaped byte cannot end the string
		case c >= 0x80:
			plain = false
		}
	}
	return false, false
}

// number reports whether the value that follows starts as a JSON number;
// it consumes nothing but whitespace.
func (s *scanner) number() bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	c := s.b[s.i]
	return c == '-' || ('0' <= c && c <= '9')
}

// value consumes one value, nested objects and arrays included, up to the
// ',' or '}' that follows it.
func (s *scanner) value() bool {
	s.ws()
	start, depth := s.i, 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			if _, ok := s.str(); !ok {
				return false
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return s.i > start
			}
			depth--
		case ',':
			if depth == 0 {
				return s.i > start
			}
		}
		s.i++
	}
	return false
}
