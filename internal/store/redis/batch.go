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

package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// batch queues commands to send in one pipeline: one round trip (on a
// cluster, go-redis sends each node its part, in parallel). Each
// operation that takes part in a batch is written once, as a queue
// function returning how to read its reply after exec; a method sending
// it alone is a batch of one.
type batch struct {
	client  goredis.UniversalClient
	pipe    goredis.Pipeliner
	scripts []queuedScript
}

// queuedScript is a script call, kept to send its body should the server
// not know it.
type queuedScript struct {
	script *goredis.Script
	keys   []string
	args   []any
	cmd    *goredis.Cmd
}

func (s *Store) batch() *batch { return &batch{client: s.client, pipe: s.client.Pipeline()} }

// script queues a script by its SHA (EVALSHA).
func (b *batch) script(ctx context.Context, sc *goredis.Script, keys []string, args ...any) *goredis.Cmd {
	cmd := sc.EvalSha(ctx, b.pipe, keys, args...)
	b.scripts = append(b.scripts, queuedScript{script: sc, keys: keys, args: args, cmd: cmd})
	return cmd
}

// exec sends the batch. Each command keeps its own reply or error. A
// script the server did not know (NOSCRIPT: a restart or a failover since
// it was loaded) did not run, and is sent again with its body (EVAL), in a
// second round trip that only such a server costs.
func (b *batch) exec(ctx context.Context) {
	_, _ = b.pipe.Exec(ctx) // the errors are on the commands
	var again []queuedScript
	var cmds []*goredis.Cmd
	var retry goredis.Pipeliner
	for _, q := range b.scripts {
		if !goredis.HasErrorPrefix(q.cmd.Err(), "NOSCRIPT") {
			continue
		}
		if retry == nil {
			retry = b.client.Pipeline()
		}
		again = append(again, q)
		cmds = append(cmds, q.script.Eval(ctx, retry, q.keys, q.args...))
	}
	if retry == nil {
		return
	}
	_, _ = retry.Exec(ctx)
	for i, q := range again {
		q.cmd.SetVal(cmds[i].Val())
		q.cmd.SetErr(cmds[i].Err())
	}
}

// one sends a single queued operation and reads its reply.
func one[T any](ctx context.Context, s *Store, queue func(b *batch) func() (T, error)) (T, error) {
	b := s.batch()
	read := queue(b)
	b.exec(ctx)
	return read()
}
