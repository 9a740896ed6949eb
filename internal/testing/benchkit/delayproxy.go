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
	"io"
	"net"
	"sync"
	"time"
)

// DelayProxy forwards TCP connections to a target and delays the bytes of
// each direction by Delay, in order: a Redis a network hop away, on a
// kernel without sch_netem. Each direction of a connection is a reader
// that stamps what it read with when it is due and a writer that sends it
// then.
type DelayProxy struct {
	// Addr is the host:port to connect to instead of the target.
	Addr  string
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

// StartDelayProxy listens on a free local port and forwards to target.
func StartDelayProxy(target string, delay time.Duration) (*DelayProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &DelayProxy{Addr: ln.Addr().String(), ln: ln}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.track(c, up)
			p.wg.Go(func() { delayCopy(up, c, delay) })
			p.wg.Go(func() { delayCopy(c, up, delay) })
		}
	})
	return p, nil
}

func (p *DelayProxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, cs...)
}

// Close stops listening and closes every connection.
func (p *DelayProxy) Close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// chunk is bytes read and when they are due at the other end.
type chunk struct {
	b   []byte
	due time.Time
}

// delayCopy copies from src to dst, each read delivered delay after it
// was read; it closes dst when src ends.
func delayCopy(dst io.WriteCloser, src io.Reader, delay time.Duration) {
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{b: buf[:n], due: time.Now().Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	defer dst.Close()
	for c := range q {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.b); err != nil {
			for range q { // drain, so the reader ends
			}
			return
		}
	}
}
