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

// Package image checks what the container image is made of, without a
// container engine: the binary `make build` produces is static and runs
// with nothing around it, and the Dockerfile's final stage is that binary
// alone on distroless, as the nonroot user.
package image

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The binary is built the way the Dockerfile builds it (make build), and
// is static: no interpreter, no shared libraries, so it runs on
// distroless/static.
func TestBinaryIsStatic(t *testing.T) {
	bin := built(t, "authstack")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary has a dynamic loader (PT_INTERP): not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary needs shared libraries %v", libs)
	}
	// It runs with an empty environment from an empty directory, as in
	// the image (no shell, no /etc/passwd entry needed for UID 65532).
	run := exec.Command(bin, "--help")
	run.Env, run.Dir = []string{}, t.TempDir()
	if out, err := run.CombinedOutput(); err != nil || !strings.Contains(string(out), "server") {
		t.Fatalf("authstack --help in an empty environment: %v\n%s", err, out)
	}
}

// The final stage copies the binary and nothing else, runs as 65532, and
// is distroless.
func TestDockerfileFinalStage(t *testing.T) {
	stages := dockerfileStages(t)
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stages", len(stages))
	}
	final := stages[len(stages)-1]
	if !strings.Contains(final[0], "distroless/static") || !strings.HasSuffix(final[0], ":nonroot") {
		t.Errorf("final base %q, want distroless static nonroot", final[0])
	}
	var user, entry bool
	for _, l := range final[1:] {
		word := strings.ToUpper(strings.Fields(l)[0])
		switch word {
		case "COPY":
			if !strings.Contains(l, "--from=build") || !strings.HasSuffix(l, " /authstack") {
				t.Errorf("final stage copies %q; want only the built binary", l)
			}
		case "USER":
			user = strings.Fields(l)[1] == "65532:65532"
		case "ENTRYPOINT":
			entry = strings.Contains(l, `"/authstack"`)
		case "ENV":
		default:
			t.Errorf("final stage has %q; want nothing but the binary", l)
		}
	}
	if !user || !entry {
		t.Errorf("final stage: USER 65532:65532 %v, ENTRYPOINT /authstack %v", user, entry)
	}
	// The build stage builds with make build, the command the tests use.
	if !strings.Contains(strings.Join(stages[0], "\n"), "make build") {
		t.Error("the build stage does not run make build")
	}
}

// dockerfileStages is the Dockerfile's instructions (comments and blank
// lines dropped), one slice per stage, each starting with its FROM.
func dockerfileStages(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(strings.ToUpper(line), "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return stages
}
