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
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// RenderOptions say what RenderSVG draws beside the panels.
type RenderOptions struct {
	// Width of the picture in pixels (1600 when 0).
	Width int
	// Range is the range the results were evaluated over.
	Range v1.Range
	// Source names the dashboard drawn (a file), PrometheusVersion the
	// Prometheus that evaluated it: both go in the footer.
	Source, PrometheusVersion string
	// Vars are the variables the queries were expanded with, shown in the
	// header.
	Vars Vars
}

// The look: Grafana's dark theme, roughly.
const (
	colorBackground = "#111217"
	colorPanel      = "#181b1f"
	colorBorder     = "#2c3235"
	colorText       = "#ccccdc"
	colorWeak       = "#8e8e9e"
	colorGrid       = "#2a2d33"
	colorError      = "#f2495c"
	fontFamily      = "DejaVu Sans, Inter, Helvetica, Arial, sans-serif"

	cellHeight = 30 // px per grid unit, as Grafana's
	gap        = 8
	pad        = 12
	headerH    = 56
	footerH    = 30
	legendLine = 15
)

// palette is Grafana's classic palette.
var palette = []string{"#73bf69", "#fade2a", "#5794f2", "#ff9830", "#f2495c", "#b877d9",
	"#8ab8ff", "#ffb357", "#96d98d", "#ff7383", "#ca95e5", "#fff899"}

// RenderSVG draws the dashboard with results (Evaluate's) on its
// 24-column grid as an SVG: row headers, and for every panel its frame,
// title and a time-series chart (axes, y ticks in the panel's unit, the
// series, a legend with the panel's legend calculations), or for a stat
// panel the last value large; a footer says what drew it.
func RenderSVG(w io.Writer, d *Dashboard, results []PanelResult, o RenderOptions) error {
	if o.Width == 0 {
		o.Width = 1600
	}
	byID := map[*Panel]PanelResult{}
	for _, r := range results {
		byID[r.Panel] = r
	}
	colW := float64(o.Width-2*pad) / Columns
	height := Height(d)
	s := &svg{}
	s.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s">`+"\n",
		o.Width, height, o.Width, height, fontFamily)
	s.printf(`<rect width="100%%" height="100%%" fill="%s"/>`+"\n", colorBackground)
	s.header(d, o)
	for i := range d.Panels {
		p := &d.Panels[i]
		g := p.GridPos
		x := pad + float64(g.X)*colW
		y := float64(headerH + g.Y*cellHeight)
		pw := float64(g.W)*colW - gap
		ph := float64(g.H*cellHeight) - gap
		if p.Type == "row" {
			s.text(x, y+20, 15, colorText, "start", `font-weight="bold"`, p.Title)
			continue
		}
		s.panel(p, byID[p], x, y, pw, ph, o.Range)
	}
	s.footer(o, float64(height-footerH+18))
	s.printf("</svg>\n")
	_, err := w.Write(s.Bytes())
	return err
}

// Height is the height in pixels of RenderSVG's picture of d: the
// header, the grid down to its lowest panel, the footer.
func Height(d *Dashboard) int {
	bottom := 0
	for _, p := range d.Panels {
		bottom = max(bottom, p.GridPos.Y+p.GridPos.H)
	}
	return headerH + bottom*cellHeight + footerH
}

type svg struct{ bytes.Buffer }

func (s *svg) printf(format string, args ...any) { fmt.Fprintf(s, format, args...) }

// text writes an escaped text element.
func (s *svg) text(x, y, size float64, fill, anchor, extra, t string) {
	s.printf(`<text x="%.1f" y="%.1f" font-size="%g" fill="%s" text-anchor="%s" %s>`, x, y, size, fill, anchor, extra)
	_ = xml.EscapeText(s, []byte(t))
	s.printf("</text>\n")
}

// textWidth estimates the width of t in the font at size.
func textWidth(t string, size float64) float64 {
	return float64(len([]rune(t))) * size * 0.6
}

// clip shortens t to fit width at size.
func clip(t string, width, size float64) string {
	r := []rune(t)
	n := int(width / (size * 0.6))
	if len(r) <= n || n < 2 {
		return t
	}
	return string(r[:n-1]) + "…"
}

func (s *svg) header(d *Dashboard, o RenderOptions) {
	s.text(pad, 30, 20, colorText, "start", `font-weight="bold"`, d.Title)
	x := pad + textWidth(d.Title, 20) + 24
	for _, v := range d.Templating.List {
		if v.Type == "datasource" {
			continue
		}
		val := "All"
		if chosen := o.Vars.Values[v.Name]; len(chosen) > 0 {
			val = strings.Join(chosen, " + ")
		}
		label := v.Label
		if label == "" {
			label = v.Name
		}
		lw, vw := textWidth(label, 12)+16, textWidth(val, 12)+16
		s.printf(`<rect x="%.1f" y="13" width="%.1f" height="24" fill="%s" stroke="%s"/>`+"\n", x, lw, colorPanel, colorBorder)
		s.text(x+8, 29, 12, colorWeak, "start", "", label)
		s.printf(`<rect x="%.1f" y="13" width="%.1f" height="24" fill="%s" stroke="%s"/>`+"\n", x+lw, vw, colorBackground, colorBorder)
		s.text(x+lw+8, 29, 12, colorText, "start", "", val)
		x += lw + vw + 12
	}
	if !o.Range.Start.IsZero() {
		s.text(float64(o.Width-pad), 29, 12, colorText, "end", "", rangeText(o.Range))
	}
}

// rangeText is the range in UTC, the end's date left out when it is the
// start's.
func rangeText(r v1.Range) string {
	start, end := r.Start.UTC(), r.End.UTC()
	to := end.Format("2006-01-02 15:04:05")
	if start.Format("2006-01-02") == end.Format("2006-01-02") {
		to = end.Format("15:04:05")
	}
	return fmt.Sprintf("%s to %s UTC", start.Format("2006-01-02 15:04:05"), to)
}

func (s *svg) footer(o RenderOptions, y float64) {
	src := o.Source
	if src == "" {
		src = "config/monitoring/grafana-dashboard.json"
	}
	version := o.PrometheusVersion
	if version == "" {
		version = "(version unknown)"
	}
	t := fmt.Sprintf("authstack's dashboard (%s): its queries evaluated by Prometheus %s over %s, step %s; drawn by hack/dashshot, not by Grafana.",
		src, version, rangeText(o.Range), o.Range.Step)
	s.text(pad, y, 11, colorWeak, "start", "", t)
}

// panel draws one panel's frame, title and content.
func (s *svg) panel(p *Panel, r PanelResult, x, y, w, h float64, rng v1.Range) {
	s.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="3" fill="%s" stroke="%s"/>`+"\n", x, y, w, h, colorPanel, colorBorder)
	s.text(x+8, y+19, 13, colorText, "start", `font-weight="bold"`, clip(p.Title, w-16, 13))
	var errs []string
	for _, t := range r.Targets {
		if t.Err != nil {
			errs = append(errs, t.Err.Error())
		}
	}
	top := y + 28
	if len(errs) > 0 {
		s.text(x+8, top+10, 11, colorError, "start", "", clip("query error: "+strings.Join(errs, "; "), w-16, 11))
		top += 14
	}
	series := r.series()
	if len(series) == 0 || !anyFinite(series) {
		s.text(x+w/2, y+h/2+6, 14, colorWeak, "middle", "", "No data")
		return
	}
	if p.Type == "stat" {
		s.stat(p, series, x, top, w, y+h-top)
		return
	}
	s.chart(p, series, x, top, w, y+h-top, rng)
}

// colored is a series with its color.
type colored struct {
	Series
	color string
}

func (r PanelResult) series() []colored {
	var out []colored
	for _, t := range r.Targets {
		for _, se := range t.Series {
			out = append(out, colored{Series: se, color: palette[len(out)%len(palette)]})
		}
	}
	return out
}

func anyFinite(series []colored) bool {
	for _, se := range series {
		if se.Finite() > 0 {
			return true
		}
	}
	return false
}

// stat draws each series' last value large, over a faint area of it.
func (s *svg) stat(p *Panel, series []colored, x, y, w, h float64) {
	n := float64(len(series))
	cellW := w / n
	for i, se := range series {
		cx := x + float64(i)*cellW
		last, ok := se.Last()
		if !ok {
			continue
		}
		lo, _ := extreme(math.Min)(se.Series)
		hi, _ := extreme(math.Max)(se.Series)
		if hi <= lo {
			hi = lo + 1
		}
		t0, t1 := se.Points[0].T, se.Points[len(se.Points)-1].T
		span := t1.Sub(t0).Seconds()
		if span <= 0 {
			span = 1
		}
		var pts []string
		for _, pt := range se.Points {
			if finite(pt.V) {
				px := cx + 8 + (cellW-16)*pt.T.Sub(t0).Seconds()/span
				py := y + h - 6 - (h*0.35)*(pt.V-lo)/(hi-lo)
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
			}
		}
		if len(pts) > 1 {
			s.printf(`<polyline points="%s" fill="none" stroke="%s" stroke-opacity="0.5" stroke-width="1.5"/>`+"\n", strings.Join(pts, " "), se.color)
		}
		text := FormatValue(p.Unit(), last)
		size := math.Min(h*0.32, (cellW-16)/textWidth(text, 1))
		s.text(cx+cellW/2, y+h*0.45+size/3, size, se.color, "middle", `font-weight="bold"`, text)
		if se.Name != "" && len(series) > 1 {
			s.text(cx+cellW/2, y+h*0.45-size*0.7, 12, colorText, "middle", "", se.Name)
		}
	}
}

// legendCalc is one of Grafana's legend calculations.
type legendCalc struct {
	title string
	fn    func(Series) (float64, bool)
}

var legendCalcs = map[string]legendCalc{
	"mean": {"Mean", func(se Series) (float64, bool) {
		sum, n := 0.0, 0
		for _, p := range se.Points {
			if finite(p.V) {
				sum += p.V
				n++
			}
		}
		return sum / float64(n), n > 0
	}},
	"max":         {"Max", extreme(math.Max)},
	"min":         {"Min", extreme(math.Min)},
	"lastNotNull": {"Last *", Series.Last},
	"last":        {"Last", Series.Last},
}

func extreme(pick func(a, b float64) float64) func(Series) (float64, bool) {
	return func(se Series) (float64, bool) {
		v, ok := 0.0, false
		for _, p := range se.Points {
			if finite(p.V) {
				if !ok {
					v, ok = p.V, true
				}
				v = pick(v, p.V)
			}
		}
		return v, ok
	}
}

// chart draws a time-series chart with its legend in the box x, y, w, h.
func (s *svg) chart(p *Panel, series []colored, x, y, w, h float64, rng v1.Range) {
	var calcs []legendCalc
	for _, c := range p.Options.Legend.Calcs {
		if lc, ok := legendCalcs[c]; ok {
			calcs = append(calcs, lc)
		}
	}
	// The legend takes at most 45 % of the height; the rest is counted.
	rows := len(series)
	if len(calcs) > 0 {
		rows++ // the table's header
	}
	fit := int(h * 0.45 / legendLine)
	shown := len(series)
	if rows > fit {
		shown = max(1, fit-1-boolInt(len(calcs) > 0))
		rows = shown + 1 + boolInt(len(calcs) > 0)
	}
	legendH := float64(rows)*legendLine + 4
	plotTop, plotBottom := y+4, y+h-legendH-18
	stacked := stackedTops(series, p.Stacked())
	lo, hi := 0.0, math.Inf(-1)
	for _, se := range stacked {
		for _, pt := range se.top {
			if finite(pt.V) {
				lo, hi = math.Min(lo, pt.V), math.Max(hi, pt.V)
			}
		}
	}
	ticks := niceTicks(lo, hi, 4)
	lo, hi = ticks[0], ticks[len(ticks)-1]
	labelW := 0.0
	for _, t := range ticks {
		labelW = math.Max(labelW, textWidth(FormatValue(p.Unit(), t), 10))
	}
	plotLeft, plotRight := x+labelW+14, x+w-10
	ty := func(v float64) float64 { return plotBottom - (plotBottom-plotTop)*(v-lo)/(hi-lo) }
	span := rng.End.Sub(rng.Start).Seconds()
	tx := func(t time.Time) float64 { return plotLeft + (plotRight-plotLeft)*t.Sub(rng.Start).Seconds()/span }
	for _, t := range ticks {
		yy := ty(t)
		s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", plotLeft, yy, plotRight, yy, colorGrid)
		s.text(plotLeft-6, yy+3.5, 10, colorWeak, "end", "", FormatValue(p.Unit(), t))
	}
	for _, t := range timeTicks(rng, int((plotRight-plotLeft)/90)) {
		xx := tx(t.at)
		s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", xx, plotTop, xx, plotBottom, colorGrid)
		s.text(xx, plotBottom+13, 10, colorWeak, "middle", "", t.label)
	}
	fill := p.FieldConfig.Defaults.Custom.FillOpacity / 100
	width := math.Max(p.FieldConfig.Defaults.Custom.LineWidth, 1)
	for _, se := range stacked {
		for _, seg := range segments(se.top, se.base, rng.Step) {
			var line, area []string
			for _, pt := range seg {
				line = append(line, fmt.Sprintf("%.1f,%.1f", tx(pt.t), ty(pt.top)))
			}
			if fill > 0 {
				area = append(area, line...)
				for i := len(seg) - 1; i >= 0; i-- {
					area = append(area, fmt.Sprintf("%.1f,%.1f", tx(seg[i].t), ty(math.Max(seg[i].base, lo))))
				}
				s.printf(`<polygon points="%s" fill="%s" fill-opacity="%.2f"/>`+"\n", strings.Join(area, " "), se.color, fill)
			}
			if len(seg) == 1 {
				s.printf(`<circle cx="%.1f" cy="%.1f" r="1.5" fill="%s"/>`+"\n", tx(seg[0].t), ty(seg[0].top), se.color)
				continue
			}
			s.printf(`<polyline points="%s" fill="none" stroke="%s" stroke-width="%g" stroke-linejoin="round"/>`+"\n",
				strings.Join(line, " "), se.color, width)
		}
	}
	s.legend(p, series[:shown], len(series)-shown, calcs, x+8, plotBottom+22, w-16)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// legend draws the series' names (and calculations, as a table) from y
// down.
func (s *svg) legend(p *Panel, series []colored, more int, calcs []legendCalc, x, y, w float64) {
	colW := 78.0
	nameW := w - colW*float64(len(calcs))
	if len(calcs) > 0 {
		y += legendLine - 4
		for i, c := range calcs {
			s.text(x+nameW+colW*float64(i+1), y, 10, colorWeak, "end", "", c.title)
		}
	}
	for _, se := range series {
		y += legendLine
		s.printf(`<rect x="%.1f" y="%.1f" width="12" height="3" fill="%s"/>`+"\n", x, y-5, se.color)
		s.text(x+18, y, 11, colorText, "start", "", clip(se.Name, nameW-22, 11))
		for i, c := range calcs {
			v, ok := c.fn(se.Series)
			t := "-"
			if ok {
				t = FormatValue(p.Unit(), v)
			}
			s.text(x+nameW+colW*float64(i+1), y, 11, colorText, "end", "", t)
		}
	}
	if more > 0 {
		s.text(x+18, y+legendLine, 11, colorWeak, "start", "", fmt.Sprintf("and %d more series", more))
	}
}

// stack is a series' points as drawn: its top, and the base its area
// fills down to (the series below it when stacked, zero otherwise).
type stack struct {
	colored
	top, base []Point
}

func stackedTops(series []colored, stacked bool) []stack {
	out := make([]stack, len(series))
	below := map[time.Time]float64{}
	for i, se := range series {
		out[i].colored = se
		for _, pt := range se.Points {
			b := 0.0
			if stacked {
				b = below[pt.T]
			}
			top := pt.V
			if stacked && finite(pt.V) {
				top = b + pt.V
				below[pt.T] = top
			}
			out[i].top = append(out[i].top, Point{T: pt.T, V: top})
			out[i].base = append(out[i].base, Point{T: pt.T, V: b})
		}
	}
	return out
}

type segPoint struct {
	t         time.Time
	top, base float64
}

// segments splits a series into runs of finite points no more than 1.5
// steps apart: Grafana leaves a gap where a series has no sample.
func segments(top, base []Point, step time.Duration) [][]segPoint {
	var out [][]segPoint
	var cur []segPoint
	for i, pt := range top {
		if !finite(pt.V) || (len(cur) > 0 && pt.T.Sub(cur[len(cur)-1].t) > step*3/2) {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
		}
		if finite(pt.V) {
			cur = append(cur, segPoint{t: pt.T, top: pt.V, base: base[i].V})
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// niceTicks are about n+1 round values from at most lo to at least hi.
func niceTicks(lo, hi float64, n int) []float64 {
	if !finite(hi) || hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	start := math.Floor(lo/step) * step
	var out []float64
	for v := start; v < hi+step*0.999; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

type timeTick struct {
	at    time.Time
	label string
}

// timeTicks are at most n round times in r, labelled in UTC.
func timeTicks(r v1.Range, n int) []timeTick {
	span := r.End.Sub(r.Start)
	steps := []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}
	step := steps[len(steps)-1]
	for _, st := range steps {
		if n > 0 && span/st <= time.Duration(n) {
			step = st
			break
		}
	}
	layout := "15:04"
	if step < time.Minute {
		layout = "15:04:05"
	}
	var out []timeTick
	for t := r.Start.UTC().Truncate(step); !t.After(r.End); t = t.Add(step) {
		if !t.Before(r.Start) {
			out = append(out, timeTick{at: t, label: t.Format(layout)})
		}
	}
	return out
}
