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

// Package clientip finds the address of the client behind a request. It
// believes X-Forwarded-For only when the request came through proxies the
// operator listed as trusted, so a client cannot choose the address its
// throttling counters are kept under.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver resolves client addresses given the trusted proxy ranges.
type Resolver struct {
	trusted []netip.Prefix
}

// New parses trusted proxies given as CIDRs or single addresses.
func New(trusted []string) (*Resolver, error) {
	r := &Resolver{}
	for _, s := range trusted {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
			r.trusted = append(r.trusted, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	return r, nil
}

func (r *Resolver) isTrusted(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the client's address. It starts from the TCP peer and,
// while the current hop is a trusted proxy, steps one entry leftwards in
// X-Forwarded-For (the proxy appended the address it saw). It stops at the
// first untrusted hop, or at the last good one when an entry is malformed.
func (r *Resolver) ClientIP(req *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	client, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	client = client.Unmap().WithZone("")
	if len(r.trusted) == 0 || !r.isTrusted(client) {
		return client
	}
	hops := forwardedFor(req.Header.Values("X-Forwarded-For"))
	for i := len(hops) - 1; i >= 0 && r.isTrusted(client); i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a
	}
	return client
}

// IgnoresForwardedFor reports whether req carries X-Forwarded-For that is
// not believed because its peer is not a trusted proxy. Behind a proxy that
// is missing from the trusted list, every client shares the proxy's
// address, and so its throttle budget: operators should hear about it.
func (r *Resolver) IgnoresForwardedFor(req *http.Request) bool {
	if req.Header.Get("X-Forwarded-For") == "" {
		return false
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	return err != nil || !r.isTrusted(peer.Unmap())
}

// parseHop reads one X-Forwarded-For entry: an address, or an address with
// a port as some proxies write it ("198.51.100.7:4711", "[2001:db8::1]:80").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

// forwardedFor flattens every X-Forwarded-For header into one hop list.
func forwardedFor(values []string) []string {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	return hops
}
