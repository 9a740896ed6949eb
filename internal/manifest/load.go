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

// Package manifest loads AuthUser, AuthClient, Secret and ConfigMap objects from YAML
// or JSON files, so that `authstack dev` serves the same resources that
// `kubectl apply` would create, without a cluster.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/authstack/authstack/api/v1alpha1"
)

// Objects are the resources read from a set of files.
type Objects struct {
	Users   []v1alpha1.AuthUser
	Clients []v1alpha1.AuthClient
	// Secrets and ConfigMaps by "namespace/name".
	Secrets    map[string]*corev1.Secret
	ConfigMaps map[string]*corev1.ConfigMap
	// Skipped names the documents of other kinds that were ignored.
	Skipped []string
}

// Secret returns the Secret namespace/name, or nil.
func (o *Objects) Secret(namespace, name string) *corev1.Secret {
	return o.Secrets[namespace+"/"+name]
}

// ConfigMap returns the ConfigMap namespace/name, or nil.
func (o *Objects) ConfigMap(namespace, name string) *corev1.ConfigMap {
	return o.ConfigMaps[namespace+"/"+name]
}

// Load reads every path: a file, or a directory whose *.yaml, *.yml and
// *.json files are read in name order (not recursively, like kubectl -f).
// Objects without a namespace are put in "default".
func Load(paths ...string) (*Objects, error) {
	o := &Objects{Secrets: map[string]*corev1.Secret{}, ConfigMaps: map[string]*corev1.ConfigMap{}}
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", f, err)
			}
			if err := o.decode(f, data); err != nil {
				return nil, err
			}
		}
	}
	return o, nil
}

func expand(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
			if !e.IsDir() {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	sort.Strings(files)
	return files, nil
}

// typeMeta is what is read first to choose the type of a document.
type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

func (o *Objects) decode(file string, data []byte) error {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for i := 0; ; i++ {
		var raw map[string]any
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: document %d: %w", file, i+1, err)
		}
		if len(raw) == 0 {
			continue // an empty document between "---" lines
		}
		doc, err := yaml.Marshal(raw)
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", file, i+1, err)
		}
		if err := o.add(doc); err != nil {
			return fmt.Errorf("%s: document %d: %w", file, i+1, err)
		}
	}
}

func (o *Objects) add(doc []byte) error {
	var tm typeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil {
		return err
	}
	switch {
	case gv == v1alpha1.GroupVersion && tm.Kind == "AuthUser":
		var u v1alpha1.AuthUser
		if err := yaml.UnmarshalStrict(doc, &u); err != nil {
			return err
		}
		defaultNamespace(&u.Namespace)
		o.Users = append(o.Users, u)
	case gv == v1alpha1.GroupVersion && tm.Kind == "AuthClient":
		var c v1alpha1.AuthClient
		if err := yaml.UnmarshalStrict(doc, &c); err != nil {
			return err
		}
		defaultNamespace(&c.Namespace)
		o.Clients = append(o.Clients, c)
	case gv.Group == "" && gv.Version == "v1" && tm.Kind == "Secret":
		var s corev1.Secret
		if err := yaml.UnmarshalStrict(doc, &s); err != nil {
			return err
		}
		defaultNamespace(&s.Namespace)
		o.Secrets[s.Namespace+"/"+s.Name] = &s
	case gv.Group == "" && gv.Version == "v1" && tm.Kind == "ConfigMap":
		var cm corev1.ConfigMap
		if err := yaml.UnmarshalStrict(doc, &cm); err != nil {
			return err
		}
		defaultNamespace(&cm.Namespace)
		o.ConfigMaps[cm.Namespace+"/"+cm.Name] = &cm
	default:
		o.Skipped = append(o.Skipped, tm.APIVersion+"/"+tm.Kind)
	}
	return nil
}

func defaultNamespace(ns *string) {
	if *ns == "" {
		*ns = "default"
	}
}
