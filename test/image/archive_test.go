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

package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// shared holds what more than one test builds: the authstack binary, the
// pause program and hack/imagearchive, each built once.
var shared struct {
	dir    string
	mu     sync.Mutex
	builds map[string]*build
}

type build struct {
	once sync.Once
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imagetest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// built builds what (authstack with make build, as the Dockerfile does;
// pause static; imagearchive) once for all tests and returns its path.
func built(t *testing.T, what string) string {
	t.Helper()
	shared.mu.Lock()
	if shared.builds == nil {
		shared.builds = map[string]*build{}
	}
	b, ok := shared.builds[what]
	if !ok {
		b = &build{bin: filepath.Join(shared.dir, what)}
		shared.builds[what] = b
	}
	shared.mu.Unlock()
	b.once.Do(func() {
		var cmd *exec.Cmd
		switch what {
		case "authstack":
			cmd = exec.Command("make", "--no-print-directory", "build", "BIN="+b.bin)
		case "pause":
			cmd = exec.Command("go", "build", "-trimpath", "-o", b.bin, "./hack/imagearchive/pause")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		case "imagearchive":
			cmd = exec.Command("go", "build", "-o", b.bin, "./hack/imagearchive")
		default:
			b.err = fmt.Errorf("built(%q): unknown", what)
			return
		}
		cmd.Dir = root(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("%s: %v\n%s", cmd, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// archive runs hack/imagearchive with args and returns the archive.
func archive(t *testing.T, args ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "image.tar")
	cmd := exec.Command(built(t, "imagearchive"), append(args, "-o", out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("imagearchive %v: %v\n%s", args, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type imageConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Config       struct {
		User       string
		Env        []string
		Entrypoint []string
		WorkingDir string
	} `json:"config"`
	RootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

type layerEntry struct {
	hdr  *tar.Header
	data []byte
}

// image is a docker-archive read back.
type image struct {
	config imageConfig
	layer  map[string]layerEntry // by path, without the leading slash
	order  []string
}

// readTar reads every entry of a tar, in order.
func readTar(t *testing.T, b []byte) ([]string, map[string]layerEntry) {
	t.Helper()
	var names []string
	entries := map[string]layerEntry{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, entries
		}
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, hdr.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			t.Fatalf("%s: %v", hdr.Name, err)
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		if _, dup := entries[name]; dup {
			t.Fatalf("%s twice in the tar", name)
		}
		names = append(names, name)
		entries[name] = layerEntry{hdr, data}
	}
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// parse reads a docker-archive as containerd's importer does: manifest.json
// names the config and the one layer, under the expected tag; the config
// is named by its digest, and its diff_ids are the layer's.
func parse(t *testing.T, b []byte, name string) image {
	t.Helper()
	_, files := readTar(t, b)
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	m, ok := files["manifest.json"]
	if !ok {
		t.Fatal("no manifest.json in the archive")
	}
	if err := json.Unmarshal(m.data, &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(manifest) != 1 || len(manifest[0].Layers) != 1 {
		t.Fatalf("manifest.json %s: want one image with one layer", m.data)
	}
	if got := manifest[0].RepoTags; len(got) != 1 || got[0] != name {
		t.Errorf("RepoTags %v, want [%s]", got, name)
	}
	config, ok := files[manifest[0].Config]
	if !ok {
		t.Fatalf("manifest.json names config %s, not in the archive", manifest[0].Config)
	}
	if want := digest(config.data) + ".json"; manifest[0].Config != want {
		t.Errorf("config named %s, its digest is %s", manifest[0].Config, want)
	}
	layer, ok := files[manifest[0].Layers[0]]
	if !ok {
		t.Fatalf("manifest.json names layer %s, not in the archive", manifest[0].Layers[0])
	}
	var img image
	if err := json.Unmarshal(config.data, &img.config); err != nil {
		t.Fatalf("config: %v", err)
	}
	c := img.config
	if c.Architecture != "amd64" || c.OS != "linux" || c.RootFS.Type != "layers" {
		t.Errorf("config platform %s/%s, rootfs type %q", c.OS, c.Architecture, c.RootFS.Type)
	}
	if want := "sha256:" + digest(layer.data); len(c.RootFS.DiffIDs) != 1 || c.RootFS.DiffIDs[0] != want {
		t.Errorf("diff_ids %v, want [%s] (the layer's sha256)", c.RootFS.DiffIDs, want)
	}
	img.order, img.layer = readTar(t, layer.data)
	return img
}

// nonroot fails unless the config's User is a numeric non-zero uid:gid
// (the kubelet checks runAsNonRoot against a numeric user only).
func (img image) nonroot(t *testing.T) {
	t.Helper()
	uid, gid, ok := strings.Cut(img.config.Config.User, ":")
	u, uerr := strconv.Atoi(uid)
	g, gerr := strconv.Atoi(gid)
	if !ok || uerr != nil || gerr != nil || u == 0 || g == 0 {
		t.Errorf("User %q, want a numeric non-root uid:gid", img.config.Config.User)
	}
}

// sound fails when an entry is writable by others (or by its group), is
// not a directory, regular file or hard link, is out of order, or has a
// time or owner name that would make builds differ.
func (img image) sound(t *testing.T) {
	t.Helper()
	seen := map[string]bool{}
	for _, name := range img.order {
		hdr := img.layer[name].hdr
		if hdr.Mode&0o022 != 0 {
			t.Errorf("%s mode %o: writable by group or others", name, hdr.Mode)
		}
		switch hdr.Typeflag {
		case tar.TypeDir, tar.TypeReg:
		case tar.TypeLink:
			if !seen[hdr.Linkname] {
				t.Errorf("hard link %s to %s before its target", name, hdr.Linkname)
			}
		default:
			t.Errorf("%s: type %q", name, hdr.Typeflag)
		}
		if dir := path.Dir(name); dir != "." && !seen[dir] {
			t.Errorf("%s before its directory", name)
		}
		if hdr.ModTime.Unix() != 0 || hdr.Uname != "" || hdr.Gname != "" {
			t.Errorf("%s: mtime %v, owner names %q %q", name, hdr.ModTime, hdr.Uname, hdr.Gname)
		}
		seen[name] = true
	}
}

// file fails unless the layer holds a regular file at name with mode and
// owner uid:uid and returns its content.
func (img image) file(t *testing.T, name string, mode int64, uid int) []byte {
	t.Helper()
	e, ok := img.layer[strings.TrimPrefix(name, "/")]
	if !ok {
		t.Fatalf("no %s in the layer", name)
	}
	if e.hdr.Typeflag != tar.TypeReg || e.hdr.Mode != mode || e.hdr.Uid != uid || e.hdr.Gid != uid {
		t.Errorf("%s: type %q mode %o owner %d:%d, want a file %o %d:%d",
			name, e.hdr.Typeflag, e.hdr.Mode, e.hdr.Uid, e.hdr.Gid, mode, uid, uid)
	}
	return e.data
}

func sameFile(t *testing.T, name string, got []byte, src string) {
	t.Helper()
	want, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s in the layer (%d bytes) is not %s (%d bytes)", name, len(got), src, len(want))
	}
}

// The authstack image is the Dockerfile's final stage without distroless:
// the binary make build produces at /authstack, 0755, owned by and run as
// nonroot, with the Dockerfile's USER, ENTRYPOINT and ENV; and two builds
// are the same bytes.
func TestAuthstackArchive(t *testing.T) {
	t.Parallel()
	img, _ := staticArchive(t, "authstack", "docker.io/local/authstack:test", "/authstack")

	stages := dockerfileStages(t)
	c := img.config.Config
	for _, l := range stages[len(stages)-1][1:] {
		word, arg, _ := strings.Cut(l, " ")
		switch strings.ToUpper(word) {
		case "USER":
			if c.User != arg {
				t.Errorf("User %q, the Dockerfile's %q", c.User, arg)
			}
		case "ENTRYPOINT":
			var want []string
			if err := json.Unmarshal([]byte(arg), &want); err != nil {
				t.Fatalf("Dockerfile ENTRYPOINT %s: %v", arg, err)
			}
			if fmt.Sprint(c.Entrypoint) != fmt.Sprint(want) {
				t.Errorf("Entrypoint %q, the Dockerfile's %q", c.Entrypoint, want)
			}
		case "ENV":
			if !slices.Contains(c.Env, arg) {
				t.Errorf("Env %q lacks the Dockerfile's %s", c.Env, arg)
			}
		}
	}
}

// staticArchive builds the image kind of its one static binary twice,
// checks the two archives are the same bytes, that the image is sound and
// non-root and holds the binary at path (0755, root's), and returns it
// with the binary.
func staticArchive(t *testing.T, kind, name, path string) (image, string) {
	t.Helper()
	bin := built(t, kind)
	a := archive(t, "-image", kind, "-bin", bin, "-name", name)
	if b := archive(t, "-image", kind, "-bin", bin, "-name", name); !bytes.Equal(a, b) {
		t.Error("two builds of the same binary differ")
	}
	img := parse(t, a, name)
	img.sound(t)
	img.nonroot(t)
	sameFile(t, path, img.file(t, path, 0o755, 0), bin)
	return img, bin
}

// The pause image holds the static pause program, which says it waits,
// then exits 0 on SIGTERM or SIGINT, as a pod sandbox is stopped.
func TestPauseArchive(t *testing.T) {
	t.Parallel()
	img, bin := staticArchive(t, "pause", "registry.k8s.io/pause:3.10", "/pause")
	if got := img.config.Config.Entrypoint; len(got) != 1 || got[0] != "/pause" {
		t.Errorf("Entrypoint %q, want [/pause]", got)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := exec.Command(bin)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stderr)
		if !lines.Scan() || !strings.Contains(lines.Text(), "waiting") {
			t.Fatalf("pause's first line %q, want it waiting", lines.Text())
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatalf("pause exited before %v: %v", sig, err)
		}
		for lines.Scan() {
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("pause on %v: %v, want exit 0", sig, err)
		}
	}
}

// lddLibs is every absolute path ldd prints for bin.
var lddLibs = regexp.MustCompile(`(/\S+) \(0x`)

// The Redis image runs the chart's bundled Redis: Debian's redis-server
// and redis-cli, every library ldd lists and the loader, busybox as sh
// and grep, a /data nonroot can write, no entrypoint. Extracted and run
// in a chroot as nonroot with the chart's args, it serves, the chart's
// readiness probe command passes, and it writes its AOF under /data.
func TestRedisArchive(t *testing.T) {
	t.Parallel()
	const name = "docker.io/local/redis:test"
	a := archive(t, "-image", "redis", "-name", name)
	if b := archive(t, "-image", "redis", "-name", name); !bytes.Equal(a, b) {
		t.Error("two builds of the same files differ")
	}
	img := parse(t, a, name)
	img.sound(t)
	img.nonroot(t)
	c := img.config.Config
	if len(c.Entrypoint) != 0 || !slices.Contains(c.Env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") {
		t.Errorf("Entrypoint %q (want none), Env %q (want PATH)", c.Entrypoint, c.Env)
	}
	sameFile(t, "/usr/bin/redis-server", img.file(t, "/usr/bin/redis-server", 0o755, 0), "/usr/bin/redis-server")
	sameFile(t, "/usr/bin/redis-cli", img.file(t, "/usr/bin/redis-cli", 0o755, 0), "/usr/bin/redis-cli")
	sameFile(t, "/bin/sh", img.file(t, "/bin/sh", 0o755, 0), "/bin/busybox")
	for _, bin := range []string{"/usr/bin/redis-server", "/usr/bin/redis-cli"} {
		out, err := exec.Command("ldd", bin).Output()
		if err != nil {
			t.Fatalf("ldd %s: %v", bin, err)
		}
		for _, m := range lddLibs.FindAllStringSubmatch(string(out), -1) {
			if _, ok := img.layer[strings.TrimPrefix(m[1], "/")]; !ok {
				t.Errorf("%s links %s; not in the layer", bin, m[1])
			}
		}
	}
	if d, ok := img.layer["data"]; !ok || d.hdr.Typeflag != tar.TypeDir || d.hdr.Uid != 65532 || d.hdr.Mode&0o700 != 0o700 {
		t.Errorf("/data: %+v, want a directory nonroot (65532) can write", d.hdr)
	}
	if t.Failed() {
		return
	}
	runRedis(t, img)
}

// runRedis extracts the layer and runs redis-server in a chroot of it as
// the chart does (nonroot, its args), then the readiness probe's command.
func runRedis(t *testing.T, img image) {
	if os.Geteuid() != 0 {
		t.Fatal("running the Redis image needs root (chroot and the layer's owners); make test runs as root")
	}
	rootfs := extract(t, img)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	// inImage runs args[0], a path in the image, chrooted as nonroot.
	inImage := func(args ...string) *exec.Cmd {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = []string{img.config.Config.Env[0], "REDIS_PASSWORD=pw"}
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Chroot:     rootfs,
			Credential: &syscall.Credential{Uid: 65532, Gid: 65532},
		}
		return cmd
	}
	var logs bytes.Buffer
	server := inImage("/usr/bin/redis-server", "--appendonly", "yes", "--appendfsync", "everysec",
		"--dir", "/data", "--maxmemory", "200mb", "--maxmemory-policy", "noeviction",
		"--requirepass", "pw", "--port", port, "--bind", "127.0.0.1")
	server.Stdout, server.Stderr = &logs, &logs
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	// stopped stops redis-server and returns its output.
	stopped := sync.OnceValue(func() string {
		_ = server.Process.Kill()
		_ = server.Wait()
		return logs.String()
	})
	defer stopped()
	// The chart's readinessProbe, with the port: redis-server is up (bounded).
	probe := `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p ` + port + ` ping | grep -q PONG`
	var out []byte
	for i := 0; i < 200; i++ {
		if out, err = inImage("/bin/sh", "-c", probe).CombinedOutput(); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the readiness probe in the image: %v\n%s\nredis-server:\n%s", err, out, stopped())
	}
	if out, err := inImage("/usr/bin/redis-cli", "-p", port, "-a", "pw", "--no-auth-warning", "set", "k", "v").CombinedOutput(); err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("redis-cli set: %v %s", err, out)
	}
	aof, err := filepath.Glob(filepath.Join(rootfs, "data", "appendonlydir", "*.aof"))
	if err != nil || len(aof) == 0 {
		t.Errorf("no AOF under /data (%v)\nredis-server:\n%s", err, stopped())
	}
}

// extract writes the layer's entries under a new directory, with their
// modes and owners, as a runtime unpacks it.
func extract(t *testing.T, img image) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range img.order {
		e := img.layer[name]
		p := filepath.Join(dir, name)
		var err error
		switch e.hdr.Typeflag {
		case tar.TypeDir:
			err = os.Mkdir(p, 0o755)
		case tar.TypeReg:
			err = os.WriteFile(p, e.data, 0o600)
		case tar.TypeLink:
			err = os.Link(filepath.Join(dir, e.hdr.Linkname), p)
		}
		if err == nil && e.hdr.Typeflag != tar.TypeLink {
			err = os.Chmod(p, os.FileMode(e.hdr.Mode).Perm())
		}
		if err == nil {
			err = os.Lchown(p, e.hdr.Uid, e.hdr.Gid)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
