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
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/authstack/authstack/internal/testing/serverproc"
)

// The scrape config names every replica's metrics address, and the
// manager's, with the labels the dashboard selects on.
func TestWriteScrapeConfig(t *testing.T) {
	c := &cluster{servers: []*serverproc.Server{{Ops: "http://127.0.0.1:9101"}, {Ops: "http://127.0.0.1:9102"}, {Ops: "http://127.0.0.1:9103"}}}
	file := filepath.Join(t.TempDir(), "targets.json")
	if err := writeScrapeConfig(file, c, &manager{metrics: "127.0.0.1:9200"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var got []target
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	want := map[string]string{"127.0.0.1:9101": "replica-0", "127.0.0.1:9102": "replica-1", "127.0.0.1:9103": "replica-2", "127.0.0.1:9200": "manager"}
	if len(got) != len(want) {
		t.Fatalf("%d targets: %s", len(got), b)
	}
	for _, g := range got {
		if len(g.Targets) != 1 || want[g.Targets[0]] != g.Labels["pod"] || g.Labels["namespace"] != "authstack" {
			t.Errorf("target %+v", g)
		}
	}
	// Without the manager, the replicas only.
	if err := writeScrapeConfig(file, c, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ = os.ReadFile(file); json.Unmarshal(b, &got) != nil || len(got) != 3 {
		t.Errorf("without the manager: %s", b)
	}
}
