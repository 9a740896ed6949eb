//go:build cluster

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

package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nsDialer dials from inside the named network namespace: a goroutine of
// its own locks its thread, enters the namespace, creates the socket there
// and goes back. A thread that cannot go back is never unlocked, so Go
// ends it instead of reusing it.
func nsDialer(netns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type result struct {
			c   net.Conn
			err error
		}
		ch := make(chan result, 1)
		go func() {
			runtime.LockOSThread()
			back, err := os.Open("/proc/thread-self/ns/net")
			if err != nil {
				runtime.UnlockOSThread()
				ch <- result{err: err}
				return
			}
			defer back.Close()
			target, err := os.Open("/var/run/netns/" + netns)
			if err != nil {
				runtime.UnlockOSThread()
				ch <- result{err: err}
				return
			}
			defer target.Close()
			if err := setns(target); err != nil {
				runtime.UnlockOSThread()
				ch <- result{err: fmt.Errorf("setns %s: %w", netns, err)}
				return
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			ch <- result{c, err}
			if setns(back) == nil {
				runtime.UnlockOSThread()
			}
		}()
		r := <-ch
		return r.c, r.err
	}
}

func setns(f *os.File) error {
	return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
}

// cleanup removes every trace of the node, in the reverse of the start
// order, and reports what it could not remove as test errors.
func (n *Node) cleanup() {
	t := n.t
	start := time.Now()
	if t.Failed() {
		t.Logf("node logs:%s", n.logs())
	}
	if n.Client != nil && n.running("kubelet") {
		// Nothing recreates the pods deleted next (ReplicaSets,
		// StatefulSets) or schedules new ones.
		n.stop("kube-controller-manager")
		n.stop("kube-scheduler")
		n.deletePods()
	}
	n.stop("kube-proxy")
	if n.running("kube-apiserver") {
		if out, err := n.nsCommand(n.bin("kube-proxy"), n.kubeProxyArgs("--cleanup")...).CombinedOutput(); err != nil {
			t.Errorf("kube-proxy --cleanup: %v\n%s", err, out)
		}
	}
	n.stop("kubelet")
	n.restoreKernelTunables()
	netnsPaths := n.removeContainers()
	n.stop("containerd")
	n.killShims()
	for _, name := range []string{"coredns", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"} {
		n.stop(name)
	}
	for i := len(n.procs) - 1; i >= 0; i-- { // any other, newest first
		n.stop(n.procs[i].name)
	}
	n.removeKubeletChains()
	n.unmount()
	for _, p := range netnsPaths {
		_ = exec.Command("umount", p).Run()
		_ = os.Remove(p)
	}
	if out, err := exec.Command("ip", "netns", "delete", n.NetNS).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such file") {
		t.Errorf("ip netns delete %s: %v\n%s", n.NetNS, err, out)
	}
	n.removeContainerLogLinks()
	n.removeDevicePluginSocket()
	for i := len(n.created) - 1; i >= 0; i-- {
		removeEmptyDirs(n.created[i])
	}
	t.Logf("cleanup took %.1fs", time.Since(start).Seconds())
}

// removeEmptyDirs removes dir and the directories under it, deepest first,
// as far as they are empty: what another user put there stays. `ip netns
// add` bind-mounts /run/netns on itself; that mount goes with it.
func removeEmptyDirs(dir string) {
	var dirs []string
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if entries, err := os.ReadDir(dirs[i]); err == nil && len(entries) == 0 {
			if dirs[i] == "/run/netns" {
				_ = exec.Command("umount", dirs[i]).Run()
			}
			_ = os.Remove(dirs[i])
		}
	}
}

func (n *Node) find(name string) *proc {
	for _, p := range n.procs {
		if p.name == name {
			return p
		}
	}
	return nil
}

func (n *Node) running(name string) bool {
	p := n.find(name)
	if p == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM to the process the node started under that name, and
// SIGKILL when it has not exited after 15 s.
func (n *Node) stop(name string) {
	p := n.find(name)
	if p == nil || !n.running(name) {
		return
	}
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		n.t.Logf("cleanup: %s did not exit 15s after SIGTERM: SIGKILL", name)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	n.t.Logf("cleanup: %s stopped in %.1fs", name, time.Since(start).Seconds())
}

// deletePods deletes every pod and waits, a bounded while, for the kubelet
// to stop their containers and tear down their networks itself and confirm
// each deletion. (Removing the stopped containers is the kubelet's garbage
// collection, a minute later: removeContainers does it with ctr.)
func (n *Node) deletePods() {
	ctx := context.Background()
	nss, err := n.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		n.t.Logf("cleanup: listing namespaces: %v", err)
		return
	}
	grace := int64(1)
	for _, ns := range nss.Items {
		_ = n.Client.CoreV1().Pods(ns.Name).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &grace}, metav1.ListOptions{})
	}
	start := time.Now()
	for i := 0; i < 60; i++ {
		pods, err := n.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		tasks, terr := n.ctr("tasks", "list")
		if err == nil && terr == nil && len(pods.Items) == 0 && !strings.Contains(tasks, "RUNNING") {
			n.t.Logf("cleanup: the kubelet stopped the pods in %.1fs", time.Since(start).Seconds())
			return
		}
		time.Sleep(time.Second)
	}
	n.t.Logf("cleanup: pods still running after they were deleted; killing them with ctr")
}

// removeContainers kills and removes what is left in containerd's k8s.io
// namespace and returns the pod network namespaces the sandboxes used.
func (n *Node) removeContainers() []string {
	if !n.running("containerd") {
		return nil
	}
	out, err := n.ctr("containers", "list", "-q")
	if err != nil {
		n.t.Errorf("cleanup: %v", err)
		return nil
	}
	var netns []string
	for _, id := range strings.Fields(out) {
		if info, err := n.ctr("containers", "info", id); err == nil {
			netns = append(netns, sandboxNetNS(info)...)
		}
		_, _ = n.ctr("tasks", "kill", "-s", "SIGKILL", id)
		for i := 0; i < 10; i++ {
			if _, err := n.ctr("tasks", "delete", "-f", id); err == nil || strings.Contains(err.Error(), "not found") {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if _, err := n.ctr("containers", "delete", id); err != nil {
			n.t.Errorf("cleanup: %v", err)
		}
		removeCNICache(id)
	}
	return netns
}

// removeCNICache removes libcni's cached results for a sandbox whose
// network nobody tore down (the kubelet was gone): libcni keeps them under
// /var/lib/cni/results whatever containerd's CNI directories.
func removeCNICache(id string) {
	paths, _ := filepath.Glob("/var/lib/cni/results/*-" + id + "-*")
	for _, p := range paths {
		_ = os.Remove(p)
	}
}

// sandboxNetNS is the network namespace path in a container's spec, when
// it is one the CNI made under /var/run/netns.
func sandboxNetNS(info string) []string {
	var c struct {
		Spec struct {
			Linux struct {
				Namespaces []struct{ Type, Path string }
			}
		}
	}
	if json.Unmarshal([]byte(info), &c) != nil {
		return nil
	}
	var paths []string
	for _, ns := range c.Spec.Linux.Namespaces {
		if ns.Type == "network" && strings.HasPrefix(ns.Path, "/var/run/netns/cni-") {
			paths = append(paths, ns.Path)
		}
	}
	return paths
}

// killShims kills containerd-shim processes serving this node's
// containerd (their command line names its socket) that outlived it.
func (n *Node) killShims() {
	if n.sock == "" {
		return
	}
	for pid, p := range processes() {
		if len(p.args) > 0 && strings.Contains(p.args[0], "containerd-shim") && flagValue(p.args, "-address") == n.sock {
			n.t.Logf("cleanup: killing shim %d", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// removeKubeletChains removes the chains the kubelet makes itself, and the
// jumps to them. They are in the node's network namespace, which goes
// away too, but a kubelet that ran in the host's must not leave them.
func (n *Node) removeKubeletChains() {
	if _, err := os.Stat("/var/run/netns/" + n.NetNS); err != nil {
		return
	}
	ipt := func(args ...string) error {
		return exec.Command("ip", append([]string{"netns", "exec", n.NetNS, "iptables", "-w"}, args...)...).Run()
	}
	for _, table := range []string{"filter", "nat", "mangle"} {
		for _, chain := range []string{"KUBE-FIREWALL", "KUBE-KUBELET-CANARY", "KUBE-IPTABLES-HINT"} {
			for _, from := range []string{"INPUT", "OUTPUT"} {
				for ipt("-t", table, "-D", from, "-j", chain) == nil {
				}
			}
			_ = ipt("-t", table, "-F", chain)
			_ = ipt("-t", table, "-X", chain)
		}
	}
}

// unmount unmounts, deepest first, everything mounted under the node's
// directory (the kubelet's pod volumes, containerd's snapshots).
func (n *Node) unmount() {
	if err := unmountUnder(n.Dir); err != nil {
		n.t.Errorf("cleanup: %v", err)
	}
}

// unmountUnder unmounts everything mounted at or below dir, deepest first.
func unmountUnder(dir string) error {
	points, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range points {
		if out, err := exec.Command("umount", "-R", p).CombinedOutput(); err != nil && !strings.Contains(string(out), "not mounted") {
			errs = append(errs, fmt.Errorf("umount -R %s: %v: %s", p, err, out))
		}
	}
	return errors.Join(errs...)
}

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			points = append(points, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	return points, sc.Err()
}

// kernelTunables are the host-wide settings the kubelet writes when it
// starts (its setupKernelTunables, with protectKernelDefaults off). They
// are not per network namespace: StartNode records them and the cleanup
// puts them back.
var kernelTunables = []string{
	"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
}

func (n *Node) saveKernelTunables() {
	n.tunables = map[string]string{}
	for _, k := range kernelTunables {
		b, err := os.ReadFile("/proc/sys/" + k)
		if err != nil {
			n.t.Fatal(err)
		}
		n.tunables[k] = strings.TrimSpace(string(b))
	}
}

func (n *Node) restoreKernelTunables() {
	for k, v := range n.tunables {
		b, err := os.ReadFile("/proc/sys/" + k)
		if err == nil && strings.TrimSpace(string(b)) == v {
			continue
		}
		if err := os.WriteFile("/proc/sys/"+k, []byte(v+"\n"), 0o644); err != nil {
			n.t.Errorf("cleanup: restoring %s: %v", k, err)
			continue
		}
		n.t.Logf("cleanup: %s the kubelet changed is %s again", strings.ReplaceAll(k, "/", "."), v)
	}
}

// removeStaleRuns removes what a run of this test killed before its
// cleanup (go test -timeout, SIGKILL) left behind. Its own processes died
// with it (parent-death signal), and so did its node's network namespace's
// users; the namespace, authstack-test-<pid> with that process gone, is
// deleted. But containerd's shims detach from containerd: a shim whose
// -address is a socket under a /tmp/TestCluster* directory that no
// containerd serves any more is that run's, and it, the containers it
// runs, the mounts under that directory, the directory and the pods'
// network namespaces no process uses any more are removed.
func (n *Node) removeStaleRuns() {
	procs := processes()
	stale := map[string]bool{}
	for pid, p := range procs {
		addr := flagValue(p.args, "-address")
		if len(p.args) == 0 || !strings.Contains(p.args[0], "containerd-shim") ||
			!strings.HasPrefix(addr, filepath.Join(os.TempDir(), "TestCluster")) {
			continue
		}
		if c, err := net.DialTimeout("unix", addr, time.Second); err == nil {
			c.Close()
			continue // a live run's
		}
		n.t.Logf("killing shim %d of a killed run (%s) and its containers", pid, addr)
		killTree(procs, pid)
		stale[strings.TrimSuffix(addr, "/containerd/containerd.sock")] = true
	}
	for dir := range stale {
		if err := unmountUnder(dir); err != nil {
			n.t.Logf("a killed run's mounts: %v", err)
		}
		if left, err := mountsUnder(dir); err == nil && len(left) == 0 {
			_ = os.RemoveAll(filepath.Dir(dir))
		}
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		name := f[0]
		switch {
		case strings.HasPrefix(name, "authstack-test-"):
			if _, err := os.Stat("/proc/" + strings.TrimPrefix(name, "authstack-test-")); err == nil {
				continue // a live run's
			}
		case strings.HasPrefix(name, "cni-") && len(stale) > 0:
			if pids, err := exec.Command("ip", "netns", "pids", name).Output(); err != nil || len(strings.TrimSpace(string(pids))) > 0 {
				continue
			}
		default:
			continue
		}
		n.t.Logf("removing the network namespace %s a killed run left", name)
		_ = exec.Command("umount", "/var/run/netns/"+name).Run()
		n.run("ip", "netns", "delete", name)
	}
}

// process is one entry of /proc.
type process struct {
	ppid int
	args []string
}

// processes reads every process's parent and command line.
func processes() map[int]process {
	ps := map[int]process{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		rest := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(rest) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(rest[1])
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		ps[pid] = process{ppid: ppid, args: strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")}
	}
	return ps
}

// killTree SIGKILLs pid's descendants, then pid.
func killTree(ps map[int]process, pid int) {
	for child, p := range ps {
		if p.ppid == pid {
			killTree(ps, child)
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// flagValue is the value after name in args ("" when absent).
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// removeContainerLogLinks removes the links the kubelet made in
// /var/log/containers to the node's pod logs.
func (n *Node) removeContainerLogLinks() {
	entries, _ := os.ReadDir("/var/log/containers")
	for _, e := range entries {
		path := filepath.Join("/var/log/containers", e.Name())
		if target, err := os.Readlink(path); err == nil && strings.HasPrefix(target, n.Dir+"/") {
			_ = os.Remove(path)
		}
	}
}

// removeDevicePluginSocket removes the socket the kubelet's device manager
// makes at a fixed path whatever its --root-dir, when the node made the
// directory: a kubelet of the host's would own it otherwise.
func (n *Node) removeDevicePluginSocket() {
	for _, p := range n.created {
		if p == "/var/lib/kubelet" {
			_ = os.Remove("/var/lib/kubelet/device-plugins/kubelet.sock")
		}
	}
}
