//go:build linux

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

package benchkit

import (
	"fmt"
	"os"
	"time"
)

// Progress prints a timestamped line to stderr: the benchmarks' running
// commentary, kept apart from the report on stdout.
func Progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// MS formats a duration with three significant digits, in ms or µs:
// "18.6 ms", "1.87 ms", "400 µs", "54.5 µs".
func MS(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d >= 100*time.Microsecond:
		return fmt.Sprintf("%.0f µs", float64(d)/1e3)
	default:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	}
}

// MiB formats a byte count in MiB with three significant digits:
// "171 MiB", "71.4 MiB", "3.25 MiB".
func MiB(b int64) string {
	m := float64(b) / (1 << 20)
	switch {
	case m >= 99.95:
		return fmt.Sprintf("%.0f MiB", m)
	case m >= 9.995:
		return fmt.Sprintf("%.1f MiB", m)
	default:
		return fmt.Sprintf("%.2f MiB", m)
	}
}
