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

// Command imagearchive writes a container image as a docker-archive tar
// (manifest.json, a config JSON, one layer tar), built from files on this
// machine without a registry, a base image or a container engine, for
// `ctr -n k8s.io images import`. It knows three images:
//
//	authstack  the static binary of `make build`, as the Dockerfile's final stage
//	pause      the pod sandbox: a static program that waits for SIGTERM
//	redis      Debian's redis-server and redis-cli with the libraries they
//	           link, and busybox as sh and grep for the chart's probe
//
// The archive is reproducible: entries sorted, fixed times and owners, so
// the same inputs give the same bytes.
//
//	go run ./hack/imagearchive -image authstack -bin bin/authstack \
//	    -name docker.io/local/authstack:dev -o bin/images/authstack.tar
package main

import (
	"flag"
	"fmt"
	"os"
)

// Path is what every image's processes search (the distroless value).
const Path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Nonroot is the Dockerfile's USER: distroless's nonroot, which the chart's
// securityContext runs every container as.
const Nonroot = 65532

func main() {
	image := flag.String("image", "", "authstack, loadgen, pause or redis")
	name := flag.String("name", "", "the image's name and tag, e.g. docker.io/local/authstack:dev")
	out := flag.String("o", "", "the archive to write")
	bin := flag.String("bin", "", "authstack, loadgen, pause: the static binary to ship")
	redis := flag.String("redis-server", "/usr/bin/redis-server", "redis: redis-server to ship")
	redisCLI := flag.String("redis-cli", "/usr/bin/redis-cli", "redis: redis-cli to ship")
	busybox := flag.String("busybox", "/bin/busybox", "redis: a static busybox, shipped as sh and grep")
	flag.Parse()
	if *name == "" || *out == "" {
		fail(fmt.Errorf("-name and -o are required"))
	}
	var img *Image
	var err error
	switch *image {
	case "authstack":
		img, err = Authstack(*bin)
	case "loadgen":
		img, err = Loadgen(*bin)
	case "pause":
		img, err = Pause(*bin)
	case "redis":
		img, err = Redis(*redis, *redisCLI, *busybox)
	default:
		err = fmt.Errorf("-image %q: want authstack, loadgen, pause or redis", *image)
	}
	if err != nil {
		fail(err)
	}
	if err := img.WriteFile(*out, *name); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "imagearchive:", err)
	os.Exit(1)
}
