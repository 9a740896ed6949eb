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
	"debug/elf"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
)

// Authstack is the Dockerfile's final stage without distroless: the binary
// at /authstack, owned by and run as nonroot, with the Dockerfile's ENV.
func Authstack(bin string) (*Image, error) {
	return staticImage(bin, "/authstack", fmt.Sprintf("%d:%d", Nonroot, Nonroot), "GODEBUG=madvdontneed=0")
}

// Loadgen is test/cluster's client (test/cluster/loadgen) at /loadgen, run
// as nonroot.
func Loadgen(bin string) (*Image, error) {
	return staticImage(bin, "/loadgen", fmt.Sprintf("%d:%d", Nonroot, Nonroot))
}

// Pause is the pod sandbox image containerd's sandbox_image names: one
// static program that blocks until SIGTERM or SIGINT (./pause), run as
// the upstream pause image's user.
func Pause(bin string) (*Image, error) {
	return staticImage(bin, "/pause", "65535:65535")
}

// staticImage is one static binary at path, owned by root, run as user.
func staticImage(bin, path, user string, env ...string) (*Image, error) {
	img := &Image{Config: Config{
		User:       user,
		Entrypoint: []string{path},
		Env:        append([]string{Path}, env...),
		WorkingDir: "/",
	}}
	if err := static(bin); err != nil {
		return nil, err
	}
	return img, img.AddFile(path, bin, 0)
}

// Redis is the chart's bundled Redis: redis-server and redis-cli with
// every library they link and the dynamic loader, at the paths ldd names,
// and a static busybox as /bin/sh and /bin/grep for the readiness probe.
// Everything is root's and read-only; /data (the PVC's mount point) is
// nonroot's, the user the chart runs it as. No entrypoint: the chart's
// args start with redis-server.
func Redis(server, cli, busybox string) (*Image, error) {
	img := &Image{Config: Config{
		User:       fmt.Sprintf("%d:%d", Nonroot, Nonroot),
		Env:        []string{Path},
		WorkingDir: "/data",
	}}
	if err := static(busybox); err != nil {
		return nil, err
	}
	libs := map[string]bool{}
	for _, bin := range []string{server, cli} {
		l, err := ldd(bin)
		if err != nil {
			return nil, err
		}
		for _, p := range l {
			libs[p] = true
		}
	}
	// Debian's redis-server is a symlink to redis-check-rdb, and Redis
	// picks its mode by argv[0]: each ships as a regular file under the
	// name the chart runs it by.
	files := [][2]string{
		{"/usr/bin/redis-server", server},
		{"/usr/bin/redis-cli", cli},
		{"/bin/sh", busybox},
	}
	for p := range libs {
		files = append(files, [2]string{p, p})
	}
	sort.Slice(files, func(i, j int) bool { return files[i][0] < files[j][0] })
	for _, f := range files {
		if err := img.AddFile(f[0], f[1], 0); err != nil {
			return nil, err
		}
	}
	if err := img.AddLink("/bin/grep", "/bin/sh"); err != nil {
		return nil, err
	}
	return img, img.AddDir("/data", Nonroot, 0o755)
}

// static fails unless bin is an ELF executable without a dynamic loader.
func static(bin string) error {
	f, err := elf.Open(bin)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; the image has no libraries for it", bin)
		}
	}
	return nil
}

// lddPath matches the absolute path on a line of ldd's output:
// "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
// "/lib64/ld-linux-x86-64.so.2 (0x...)"; linux-vdso has none.
var lddPath = regexp.MustCompile(`(?m)^\s*(?:\S+ => )?(/\S+) \(0x[0-9a-f]+\)$`)

// ldd lists the shared libraries bin loads, the dynamic loader included.
func ldd(bin string) ([]string, error) {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("ldd %s: %v: %s", bin, err, exit.Stderr)
		}
		return nil, fmt.Errorf("ldd %s: %w", bin, err)
	}
	var libs []string
	for _, m := range lddPath.FindAllStringSubmatch(string(out), -1) {
		libs = append(libs, m[1])
	}
	if len(libs) == 0 {
		return nil, fmt.Errorf("ldd %s lists no libraries:\n%s", bin, out)
	}
	return libs, nil
}
