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

// Command coredns is CoreDNS (the version is pinned in this directory's
// go.mod) with only the plugins test/cluster's Corefile uses: bind, errors,
// cache and kubernetes. It is CoreDNS's documented way of choosing plugins, a main
// package that imports coremain and the plugin packages wanted (each registers
// itself in its init). core/dnsserver's Directives still lists every plugin
// name, in the order they run; a directive whose plugin is not compiled in is
// never set up, and a Corefile that uses one fails to load ("missing a
// plugin?"). Leaving out the cloud back ends (AWS, Azure, Google Cloud DNS),
// etcd, dnstap, tracing and the rest makes the first build minutes shorter.
// hack/setup-node.sh builds it.
package main

import (
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
)

func main() {
	coremain.Run()
}
