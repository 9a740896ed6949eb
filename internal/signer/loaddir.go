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

package signer

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ActiveFile is the file in a key directory that holds the signing key.
const ActiveFile = "active.pem"

// maxKeyFileBytes bounds the size of one key file.
const maxKeyFileBytes = 1 << 20

// LoadDir loads the keys of every regular "*.pem" file in dir, following
// symbolic links, and skipping names that start with "." (the "..data"
// indirection of Kubernetes Secret volumes) and dangling symbolic links.
//
// The active signing key is the one in active.pem, which must hold exactly
// one private key. Without active.pem, the directory must hold exactly one
// private key (counting copies of one key once), which becomes active.
// All other keys, private or public, only verify. It is an error for two
// files to hold different keys under one kid; copies of one key are merged.
func LoadDir(dir string) (*KeySet, error) {
	files, err := readKeyFiles(dir)
	if err != nil {
		return nil, err
	}
	return buildKeySet(dir, files)
}

// keyFile is one key file's name and contents.
type keyFile struct {
	name string
	data []byte
}

// readKeyFiles reads the key files of dir, sorted by name.
func readKeyFiles(dir string) ([]keyFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read key dir: %w", err)
	}
	var files []keyFile
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".pem") {
			continue
		}
		data, ok, err := readRegular(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			// A dangling symlink, as a Secret volume has for a removed key
			// between the "..data" swap and the cleanup of its links.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read key file %s: %w", name, err)
		}
		if ok {
			files = append(files, keyFile{name: name, data: data})
		}
	}
	return files, nil
}

// readRegular reads path, following symbolic links, if it is a regular
// file; ok is false for anything else (such as a directory).
func readRegular(path string) (data []byte, ok bool, err error) {
	// Stat before opening: opening a FIFO would block.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, false, err
	}
	if !fi.Mode().IsRegular() {
		return nil, false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, maxKeyFileBytes+1))
	if err != nil {
		return nil, false, err
	}
	if len(data) > maxKeyFileBytes {
		return nil, false, fmt.Errorf("larger than %d bytes", maxKeyFileBytes)
	}
	return data, true, nil
}

// hashKeyFiles returns a hash of the names and contents of files.
func hashKeyFiles(files []keyFile) [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, f := range files {
		for _, b := range [][]byte{[]byte(f.name), f.data} {
			binary.BigEndian.PutUint64(n[:], uint64(len(b)))
			h.Write(n[:])
			h.Write(b)
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// buildKeySet parses files and applies the LoadDir rules.
func buildKeySet(dir string, files []keyFile) (*KeySet, error) {
	var (
		active *Key
		ix     keyIndex
	)
	for _, f := range files {
		keys, err := ParsePEM(f.data)
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", f.name, err)
		}
		if f.name == ActiveFile {
			if len(keys) != 1 {
				return nil, fmt.Errorf("key file %s: holds %d keys, want exactly one", f.name, len(keys))
			}
			if !keys[0].CanSign() {
				return nil, fmt.Errorf("key file %s: holds a public key, want a private key", f.name)
			}
			active = keys[0]
		}
		for _, k := range keys {
			if err := ix.add(k); err != nil {
				return nil, fmt.Errorf("key file %s: %w", f.name, err)
			}
		}
	}
	if active == nil {
		var private []*Key
		for _, k := range ix.keys {
			if k.CanSign() {
				private = append(private, k)
			}
		}
		switch len(private) {
		case 0:
			return nil, fmt.Errorf("key dir %s: no private key in any *.pem file", dir)
		case 1:
			active = private[0]
		default:
			return nil, fmt.Errorf("key dir %s: %d private keys and no %s to choose the active one", dir, len(private), ActiveFile)
		}
	}
	ks, err := NewKeySet(active, ix.keys...)
	if err != nil {
		return nil, fmt.Errorf("key dir %s: %w", dir, err)
	}
	return ks, nil
}
