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

package userstatus

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report in plain words: the verdict, what stops
// the user, then what she may notice.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	switch r.Verdict {
	case VerdictOK:
		fmt.Fprintf(&b, "Nothing stops %q from logging in", r.Username)
		for _, u := range r.AuthUsers {
			if u.HoldsUsername {
				fmt.Fprintf(&b, ": AuthUser %s/%s holds the username and is Ready", u.Namespace, u.Name)
			}
		}
		b.WriteString(".\n")
	case VerdictBlocked:
		fmt.Fprintf(&b, "%q cannot log in:\n", r.Username)
	default:
		fmt.Fprintf(&b, "Cannot tell whether %q can log in:\n", r.Username)
	}
	also := false
	for _, f := range r.Findings {
		if !f.Blocking && !also && r.Verdict == VerdictBlocked {
			b.WriteString("Also:\n")
			also = true
		}
		fmt.Fprintf(&b, "  - %s\n", f.Message)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
