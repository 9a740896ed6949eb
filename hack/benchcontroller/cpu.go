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

package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/authstack/authstack/internal/testing/benchkit"
)

// cpuMeter reads the CPU time of every process of a phase on the shared
// cores: the manager, the kube-apiserver, etcd, redis-server and the bench
// itself, so that a report says where a phase's time went.
type cpuMeter struct {
	names []string
	pids  []int
	start []time.Duration
	began time.Time
	load  string // the load average at the start
}

// startCPU starts a meter; manager is the manager's PID (0 before it runs,
// its CPU then counting from zero).
func (b *bench) startCPU(manager int) (*cpuMeter, error) {
	children, err := benchkit.Children("kube-apiserver", "etcd")
	if err != nil {
		return nil, err
	}
	m := &cpuMeter{names: []string{"manager", "kube-apiserver", "etcd", "redis-server", "bench"},
		pids:  []int{manager, children["kube-apiserver"], children["etcd"], b.rds.PID(), os.Getpid()},
		began: time.Now(), load: benchkit.LoadAverage()}
	for _, pid := range m.pids {
		var used time.Duration
		if pid != 0 {
			c, err := benchkit.ReadCPU(pid)
			if err != nil {
				return nil, err
			}
			used = c.Total()
		}
		m.start = append(m.start, used)
	}
	return m, nil
}

// stop reads the CPU each process used since the start: per user, and as
// a share of the machine's cores over the phase.
func (m *cpuMeter) stop(manager, users int) (string, error) {
	m.pids[0] = manager
	wall := time.Since(m.began)
	cores := time.Duration(runtime.NumCPU())
	var parts []string
	var total time.Duration
	for i, pid := range m.pids {
		if pid == 0 {
			continue
		}
		c, err := benchkit.ReadCPU(pid)
		if err != nil {
			return "", err
		}
		used := c.Total() - m.start[i]
		total += used
		parts = append(parts, fmt.Sprintf("%s %s/user (%.0f %%)", m.names[i], benchkit.MS(used/time.Duration(users)), 100*used.Seconds()/(cores*wall).Seconds()))
	}
	return fmt.Sprintf("%s; these together %.0f %% of the %d cores; load average %s at the start, %s at the end",
		strings.Join(parts, ", "), 100*total.Seconds()/(cores*wall).Seconds(), cores, m.load, benchkit.LoadAverage()), nil
}
