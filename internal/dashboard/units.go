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

package dashboard

import (
	"math"
	"strconv"
	"strings"
)

// FormatValue writes v in unit as Grafana's value formats do, to three
// significant digits: "s" (and "ms") as a duration in the largest fitting
// unit ("250 ms", "1.5 s", "2 min"), "reqps" and "ops" as counts per
// second ("1.2K req/s"), "short" with K/Mil/Bil, "bytes" in IEC units
// ("1.5 MiB"), "decbytes" in SI units, "percent" (0-100) and
// "percentunit" (0-1) with %, "none" or "" as the bare number, and any
// other unit as a suffix.
func FormatValue(unit string, v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	switch unit {
	case "s":
		return duration(v)
	case "ms":
		return duration(v / 1000)
	case "reqps":
		return scaled(v, 1000, []string{"", "K", "M", "B", "T"}) + " req/s"
	case "ops":
		return scaled(v, 1000, []string{"", "K", "M", "B", "T"}) + " ops/s"
	case "short":
		return scaled(v, 1000, []string{"", " K", " Mil", " Bil", " Tri"})
	case "bytes":
		return scaled(v, 1024, []string{" B", " KiB", " MiB", " GiB", " TiB", " PiB"})
	case "decbytes":
		return scaled(v, 1000, []string{" B", " kB", " MB", " GB", " TB", " PB"})
	case "percent":
		return number(v) + "%"
	case "percentunit":
		return number(v*100) + "%"
	case "", "none":
		return number(v)
	}
	return number(v) + " " + unit
}

// duration writes seconds in the largest unit under which they stay at
// least one (Grafana's toSeconds).
func duration(sec float64) string {
	a := math.Abs(sec)
	switch {
	case a == 0:
		return "0 s"
	case a < 1e-6:
		return number(sec*1e9) + " ns"
	case a < 1e-3:
		return number(sec*1e6) + " µs"
	case a < 1:
		return number(sec*1e3) + " ms"
	case a < 60:
		return number(sec) + " s"
	case a < 3600:
		return number(sec/60) + " min"
	case a < 86400:
		return number(sec/3600) + " hour"
	case a < 7*86400:
		return number(sec/86400) + " day"
	case a < 365*86400:
		return number(sec/(7*86400)) + " week"
	}
	return number(sec/(365*86400)) + " year"
}

// scaled divides v by factor until it is below factor, naming the step
// with suffixes[i].
func scaled(v, factor float64, suffixes []string) string {
	i := 0
	for math.Abs(v) >= factor && i < len(suffixes)-1 {
		v /= factor
		i++
	}
	return number(v) + suffixes[i]
}

// number writes v to three significant digits (all of its integer part),
// without trailing zeros or an exponent.
func number(v float64) string {
	a := math.Abs(v)
	if a == 0 {
		return "0"
	}
	decimals := 0
	if a < 100 {
		decimals = 2 - int(math.Floor(math.Log10(a)))
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
