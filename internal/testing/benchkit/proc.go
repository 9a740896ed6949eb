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
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/procfs"
)

// userHZ is the unit of utime and stime in /proc/PID/stat (USER_HZ, 100 on
// every mainstream Linux; procfs assumes the same).
const userHZ = 100

// CPU is the CPU a process has used so far, every thread.
type CPU struct {
	User, System time.Duration
	// MinorFaults are the pages the kernel had to map (and usually zero)
	// on first touch.
	MinorFaults int64
}

// Total is user + system time.
func (c CPU) Total() time.Duration { return c.User + c.System }

// ReadCPU reads /proc/PID/stat.
func ReadCPU(pid int) (CPU, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return CPU{}, err
	}
	st, err := p.Stat()
	if err != nil {
		return CPU{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	tick := time.Second / userHZ
	return CPU{
		User:        time.Duration(st.UTime) * tick,
		System:      time.Duration(st.STime) * tick,
		MinorFaults: int64(st.MinFlt),
	}, nil
}

// ReadContextSwitches returns the context switches (voluntary and
// involuntary) of every thread of a process so far: /proc/PID/status counts
// only the main thread's, so each /proc/PID/task/TID/status is read.
func ReadContextSwitches(pid int) (int64, error) {
	threads, err := procfs.AllThreads(pid)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, t := range threads {
		st, err := t.NewStatus()
		if err != nil {
			continue // the thread exited
		}
		n += int64(st.TotalCtxtSwitches())
	}
	return n, nil
}

// Memory is a process's resident set now and at its peak, in bytes.
type Memory struct {
	RSS, Peak int64 // VmRSS and VmHWM
}

// ReadMemory reads VmRSS and VmHWM from /proc/PID/status.
func ReadMemory(pid int) (Memory, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return Memory{}, err
	}
	st, err := p.NewStatus()
	if err != nil {
		return Memory{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return Memory{RSS: int64(st.VmRSS), Peak: int64(st.VmHWM)}, nil
}

// RSSSampler records the largest VmRSS of a process, sampled every 50 ms,
// as a cross-check of the kernel's VmHWM.
type RSSSampler struct {
	stopc, done chan struct{}
	max         int64
}

// SampleRSS starts sampling pid until Stop.
func SampleRSS(pid int) *RSSSampler {
	s := &RSSSampler{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if m, err := ReadMemory(pid); err == nil {
				s.max = max(s.max, m.RSS)
			}
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends the sampling and returns the largest VmRSS seen, in bytes.
func (s *RSSSampler) Stop() int64 {
	close(s.stopc)
	<-s.done
	return s.max
}

// Children returns the PIDs of this process's children whose command
// name (/proc/PID/comm) is one of names, by name: the processes a library
// started (envtest's kube-apiserver and etcd).
func Children(names ...string) (map[string]int, error) {
	procs, err := procfs.AllProcs()
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]int{}
	for _, p := range procs {
		st, err := p.Stat()
		if err != nil || st.PPID != os.Getpid() || !want[st.Comm] {
			continue // exited meanwhile, or not one of ours
		}
		out[st.Comm] = p.PID
	}
	return out, nil
}

// LoadAverage is the first three fields of /proc/loadavg: a report says
// how busy the shared machine was.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return "unknown"
	}
	return string(bytes.Join(f[:3], []byte(" ")))
}
