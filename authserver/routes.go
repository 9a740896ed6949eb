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

package authserver

import (
	"net/http"
	"slices"
	"strings"

	"github.com/authstack/authstack/authserver/metrics"
)

// route is one endpoint of the API listener. The route table of New is
// the one list of the server's endpoints: it feeds the mux, the "handler"
// label of the request metrics and the endpoint URLs of the discovery
// documents.
type route struct {
	// method, when set, is the only method the mux routes here (others
	// get 405); empty routes every method.
	method string
	// path is the ServeMux path below the issuer's path; one ending in "/"
	// also matches every path below it.
	path string
	// suffixed routes are served at path followed by the issuer's path,
	// rather than below it: where RFC 8414 §3 puts the metadata of an
	// issuer with a path (https://host/.well-known/oauth-authorization-server/auth).
	suffixed bool
	handler  http.Handler
	// member, when set, is the discovery metadata member that holds the
	// route's URL (discovery.TokenEndpoint, ...).
	member string
	// quiet routes (the probes) are counted but not logged per request.
	quiet bool
	// counts are the route's requests by status code (newRouteTable sets
	// them, one per label).
	counts *requestCounts
}

// at is the path the route is served at under an issuer whose path is
// prefix ("" or "/auth").
func (rt route) at(prefix string) string {
	if rt.suffixed {
		return rt.path + prefix
	}
	return prefix + rt.path
}

// pattern is the route's ServeMux pattern under prefix: "[METHOD ]PATH".
func (rt route) pattern(prefix string) string {
	if rt.method == "" {
		return rt.at(prefix)
	}
	return rt.method + " " + rt.at(prefix)
}

// label is the route's "handler" label: its path without the issuer's,
// and without the trailing slash of a subtree (every path below /verify/
// is counted as /verify), so that the labels are the same under every
// issuer.
func (rt route) label() string {
	if rt.path != "/" {
		return strings.TrimSuffix(rt.path, "/")
	}
	return rt.path
}

// otherLabel is the "handler" label of a request that matches no route.
const otherLabel = "other"

// routeTable is the server's routes under an issuer's path, indexed for
// the metrics.
type routeTable struct {
	routes []route
	// prefix is the issuer's path: "" or "/auth".
	prefix  string
	exact   map[string]route
	subtree []route // paths ending in "/", longest first
	// other counts the requests no route serves.
	other *requestCounts
}

// newRouteTable indexes routes under prefix, each counted in m's request
// metrics under its label.
func newRouteTable(routes []route, prefix string, m *metrics.Metrics) *routeTable {
	t := &routeTable{routes: routes, prefix: prefix, exact: make(map[string]route, len(routes)),
		other: newRequestCounts(m, otherLabel)}
	counts := make(map[string]*requestCounts)
	for _, rt := range routes {
		if counts[rt.label()] == nil {
			counts[rt.label()] = newRequestCounts(m, rt.label())
		}
		rt.counts = counts[rt.label()]
		if strings.HasSuffix(rt.path, "/") {
			t.subtree = append(t.subtree, rt)
			continue
		}
		t.exact[rt.at(prefix)] = rt
	}
	// Longest first, so that the most specific subtree labels a path.
	slices.SortStableFunc(t.subtree, func(a, b route) int { return len(b.path) - len(a.path) })
	return t
}

// mux returns a ServeMux serving every route.
func (t *routeTable) mux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range t.routes {
		mux.Handle(rt.pattern(t.prefix), rt.handler)
	}
	return mux
}

// match returns the route whose path is path, or whose subtree holds it;
// ok is false for a path no route serves. The method is not looked at: a
// request with the wrong one is counted under the route it was refused by
// (405).
func (t *routeTable) match(path string) (rt route, ok bool) {
	if rt, ok := t.exact[path]; ok {
		return rt, true
	}
	for _, rt := range t.subtree {
		if strings.HasPrefix(path, rt.at(t.prefix)) {
			return rt, true
		}
	}
	return route{}, false
}

// advertised maps each discovery member of routes to its route's path.
func advertised(routes []route) map[string]string {
	m := make(map[string]string)
	for _, rt := range routes {
		if rt.member != "" {
			m[rt.member] = rt.path
		}
	}
	return m
}
