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
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Epoch is every entry's modification time, so that builds of the same
// files are byte-identical.
var Epoch = time.Unix(0, 0).UTC()

// Config is the part of an image config the runtime reads.
type Config struct {
	User       string   `json:"User,omitempty"`
	Env        []string `json:"Env,omitempty"`
	Entrypoint []string `json:"Entrypoint,omitempty"`
	WorkingDir string   `json:"WorkingDir,omitempty"`
}

// ImageConfig is the config JSON of a docker-archive (the OCI image
// config): the platform, the runtime config and the layers' digests.
type ImageConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Config       Config `json:"config"`
	RootFS       RootFS `json:"rootfs"`
}

// RootFS lists the sha256 of each uncompressed layer tar.
type RootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

// Manifest is one entry of a docker-archive's manifest.json.
type Manifest struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// Image is one layer's entries, by path, and the config to run it with.
type Image struct {
	Config  Config
	entries map[string]entry
}

type entry struct {
	hdr  tar.Header
	data []byte
}

// AddFile adds src's content (symlinks followed) as a regular file at
// dst, owned by uid:uid, with src's permission bits less any write bit
// for group and others.
func (img *Image) AddFile(dst, src string, uid int) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return img.add(dst, tar.TypeReg, uid, int64(fi.Mode().Perm()&^0o022), data)
}

// AddLink adds a hard link at dst to the regular file added at target.
func (img *Image) AddLink(dst, target string) error {
	t := strings.TrimPrefix(path.Clean(target), "/")
	e, ok := img.entries[t]
	if !ok || e.hdr.Typeflag != tar.TypeReg {
		return fmt.Errorf("link %s: %s is not a file of the image", dst, target)
	}
	if err := img.add(dst, tar.TypeLink, e.hdr.Uid, e.hdr.Mode, nil); err != nil {
		return err
	}
	name := strings.TrimPrefix(path.Clean(dst), "/")
	l := img.entries[name]
	l.hdr.Linkname = t
	img.entries[name] = l
	return nil
}

// AddDir adds a directory at dst owned by uid:uid.
func (img *Image) AddDir(dst string, uid int, mode fs.FileMode) error {
	return img.add(dst, tar.TypeDir, uid, int64(mode.Perm()), nil)
}

func (img *Image) add(dst string, typ byte, uid int, mode int64, data []byte) error {
	name := strings.TrimPrefix(path.Clean(dst), "/")
	if !path.IsAbs(dst) || name == "" {
		return fmt.Errorf("%q: want an absolute path below /", dst)
	}
	if img.entries == nil {
		img.entries = map[string]entry{}
	}
	if _, dup := img.entries[name]; dup {
		return fmt.Errorf("%s added twice", dst)
	}
	// Parent directories are root's, 0755.
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if e, ok := img.entries[dir]; ok {
			if e.hdr.Typeflag != tar.TypeDir {
				return fmt.Errorf("%s: /%s is a file", dst, dir)
			}
			continue
		}
		img.entries[dir] = entry{hdr: header(dir, tar.TypeDir, 0, 0o755, 0)}
	}
	img.entries[name] = entry{hdr: header(name, typ, uid, mode, int64(len(data))), data: data}
	return nil
}

func header(name string, typ byte, uid int, mode, size int64) tar.Header {
	if typ == tar.TypeDir {
		name += "/"
	}
	return tar.Header{
		Typeflag: typ, Name: name, Mode: mode, Size: size,
		Uid: uid, Gid: uid, ModTime: Epoch, Format: tar.FormatUSTAR,
	}
}

// Layer is the layer tar: every entry sorted by path, so a directory
// comes before what it holds, and hard links last, after their targets.
func (img *Image) Layer() ([]byte, error) {
	names := make([]string, 0, len(img.entries))
	for n := range img.entries {
		names = append(names, n)
	}
	link := func(n string) bool { return img.entries[n].hdr.Typeflag == tar.TypeLink }
	sort.Slice(names, func(i, j int) bool {
		if link(names[i]) != link(names[j]) {
			return link(names[j])
		}
		return names[i] < names[j]
	})
	entries := make([]entry, 0, len(names))
	for _, n := range names {
		entries = append(entries, img.entries[n])
	}
	return tarball(entries)
}

// Archive is the docker-archive: the config, the layer and manifest.json
// naming both, with the image tagged name.
func (img *Image) Archive(name string) ([]byte, error) {
	layer, err := img.Layer()
	if err != nil {
		return nil, err
	}
	layerSum := sha256.Sum256(layer)
	config, err := json.Marshal(ImageConfig{
		Architecture: "amd64", OS: "linux", Config: img.Config,
		RootFS: RootFS{Type: "layers", DiffIDs: []string{"sha256:" + hex.EncodeToString(layerSum[:])}},
	})
	if err != nil {
		return nil, err
	}
	configSum := sha256.Sum256(config)
	configName := hex.EncodeToString(configSum[:]) + ".json"
	layerName := hex.EncodeToString(layerSum[:]) + "/layer.tar"
	manifest, err := json.Marshal([]Manifest{{Config: configName, RepoTags: []string{name}, Layers: []string{layerName}}})
	if err != nil {
		return nil, err
	}
	return tarball([]entry{
		{header(configName, tar.TypeReg, 0, 0o644, int64(len(config))), config},
		{header(path.Dir(layerName), tar.TypeDir, 0, 0o755, 0), nil},
		{header(layerName, tar.TypeReg, 0, 0o644, int64(len(layer))), layer},
		{header("manifest.json", tar.TypeReg, 0, 0o644, int64(len(manifest))), manifest},
	})
}

// WriteFile writes the archive to out, creating its directory.
func (img *Image) WriteFile(out, name string) error {
	archive, err := img.Archive(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, archive, 0o644)
}

func tarball(entries []entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		if err := tw.WriteHeader(&hdr); err != nil {
			return nil, fmt.Errorf("%s: %w", hdr.Name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
